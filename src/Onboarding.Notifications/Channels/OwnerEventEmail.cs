using System.Globalization;
using System.Text;
using Onboarding.Notifications.Contracts;

namespace Onboarding.Notifications.Channels;

/// <summary>The plain-text e-mail for an owner event: the serial in the subject, the facts in the body.</summary>
internal static class OwnerEventEmail
{
    public static (string Subject, string Text) Render(string body)
    {
        var ownerEvent = OwnerEvent.Parse(body);
        var at = ownerEvent.OccurredAt.ToString("u", CultureInfo.InvariantCulture);
        if (ownerEvent.Device is not { } device)
        {
            return ("[Onboarding] Test notification",
                $"This is a test notification from your Onboarding NMS, sent {at}.\nDelivery {ownerEvent.DeliveryId}\n");
        }

        var outcome = ownerEvent.Event == OwnerEvent.DeviceOnboarded ? "onboarded" : "rejected";
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"Device {device.SerialNumber} was {outcome} at {at}.\n\n")
            .Append(CultureInfo.InvariantCulture, $"Serial number: {device.SerialNumber}\n")
            .Append(CultureInfo.InvariantCulture, $"Device id:     {device.Id}\n")
            .Append(CultureInfo.InvariantCulture, $"Manufacturer:  {device.ManufacturerId}\n")
            .Append(CultureInfo.InvariantCulture, $"State:         {device.From} -> {device.To}\n")
            .Append(CultureInfo.InvariantCulture, $"{(outcome == "rejected" ? "Reason" : "Detail")}:        {device.Detail}\n")
            .Append(CultureInfo.InvariantCulture, $"\nDelivery {ownerEvent.DeliveryId}\n");
        return ($"[Onboarding] Device {device.SerialNumber} {outcome}", text.ToString());
    }
}
