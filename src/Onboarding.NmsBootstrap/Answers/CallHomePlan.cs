using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Onboarding.Inventory.Contracts;
using Onboarding.NmsBootstrap.Contracts;

namespace Onboarding.NmsBootstrap.Answers;

/// <summary>The call-home configuration one device gets: the same for the device and for its owner's preview.</summary>
internal sealed class CallHomePlan(IOptions<NmsBootstrapOptions> options, INmsCallHomeIdentity identity)
{
    public CallHomeTarget Target(DeviceIdentity device) =>
        new(device.SerialNumber, options.Value.CallHomeAddress, options.Value.CallHomePort, identity.UserName, identity.PublicKeyLine,
            identity.DeviceSecret(device.Id));

    public byte[] Configuration(DeviceIdentity device, CallHomeStyle style) => CallHomeConfiguration.Render(style, Target(device));
}
