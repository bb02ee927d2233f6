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
        db.OrderEvents.Add(new OrderEvent { OrderId = order.Id, State = to, At = at, Detail = detail });
    }
}
