using Onboarding.Inventory.Contracts;
using Onboarding.Notifications.Contracts;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.Notifications.Sending;

/// <summary>The device module's fact "device onboarded / rejected" becomes one delivery per channel of its owner.</summary>
internal sealed class DeviceStateChangedHandler(DeliveryPlanner planner) : IOutboxHandler
{
    public async Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var fact = message.Read<DeviceStateChanged>();
        await planner.PlanAsync(message.Id, fact.CustomerId, deliveryId => OwnerEvent.For(deliveryId, fact), cancellationToken);
    }
}
