using Onboarding.Redirect.Data;

namespace Onboarding.Redirect.Orders;

/// <summary>An order step the transition table refuses; nothing was changed.</summary>
internal sealed class OrderTransitionRefusedException(OrderState from, OrderState to)
    : InvalidOperationException($"An order in state {from} cannot become {to}.")
{
    public OrderState From { get; } = from;

    public OrderState To { get; } = to;
}

/// <summary>The one way an order's state changes: checked against <see cref="OrderTransitions"/>, with a timeline entry.</summary>
internal static class OrderTimeline
{
    /// <summary>Applies the step to a tracked order and adds its event; the caller saves both in one transaction.</summary>
    public static void Apply(RedirectDbContext db, Order order, OrderState to, DateTimeOffset at, string? detail)
    {
        if (!OrderTransitions.IsAllowed(order.State, to))
            throw new OrderTransitionRefusedException(order.State, to);
        order.State = to;
        order.UpdatedAt = at;
        db.OrderEvents.Add(new OrderEvent { OrderId = order.Id, State = to, At = at, Detail = detail is null ? null : Clip(detail) });
    }

    /// <summary>Adds an event that changes no state (a device's progress report), under the order's current state.</summary>
    public static void Note(RedirectDbContext db, Order order, DateTimeOffset at, string detail)
    {
        order.UpdatedAt = at;
        db.OrderEvents.Add(new OrderEvent { OrderId = order.Id, State = order.State, At = at, Detail = Clip(detail) });
    }

    /// <summary>order_events.detail holds at most 500 characters.</summary>
    public static string Clip(string detail) => detail.Length <= 500 ? detail : string.Concat(detail.AsSpan(0, 499), "…");
}
