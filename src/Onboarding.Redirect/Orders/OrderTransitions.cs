namespace Onboarding.Redirect.Orders;

/// <summary>The order timeline as data: every allowed (from, to) pair, and nothing else.</summary>
internal static class OrderTransitions
{
    public static IReadOnlySet<(OrderState? From, OrderState To)> Allowed { get; } = new HashSet<(OrderState? From, OrderState To)>
    {
        (null, OrderState.Ordered),
        (OrderState.Ordered, OrderState.Authenticated),
        (OrderState.Authenticated, OrderState.HandedOff),
        (OrderState.HandedOff, OrderState.Redirected),

        // A device that boots again (retry, factory reset) authenticates again; it is redirected again from the start.
        (OrderState.Redirected, OrderState.Authenticated),
        (OrderState.HandedOff, OrderState.Authenticated),
        (OrderState.Authenticated, OrderState.Authenticated),

        // Cancelling is possible until the device has been handed to the NMS: after that the NMS holds the record, and
        // withdrawing it is the customer's business at the NMS, not the manufacturer's here.
        (OrderState.Ordered, OrderState.Cancelled),
        (OrderState.Authenticated, OrderState.Cancelled),
    };

    public static bool IsAllowed(OrderState? from, OrderState to) => Allowed.Contains((from, to));
}
