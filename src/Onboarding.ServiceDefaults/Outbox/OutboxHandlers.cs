using Microsoft.Extensions.DependencyInjection;

namespace Onboarding.ServiceDefaults.Outbox;

/// <summary>One module's handler for one message type, added by <c>AddOutboxHandler</c>.</summary>
internal sealed record OutboxHandlerRegistration(string Type, Type HandlerType);

/// <summary>The message types this host can handle: a dispatcher claims only these, so a host composed without a
/// module never burns the attempts of that module's messages.</summary>
internal sealed class OutboxHandlers
{
    private readonly Dictionary<string, Type> _handlers = new(StringComparer.Ordinal);

    public OutboxHandlers(IEnumerable<OutboxHandlerRegistration> registrations)
    {
        foreach (var registration in registrations)
        {
            if (!_handlers.TryAdd(registration.Type, registration.HandlerType))
                throw new InvalidOperationException($"Two outbox handlers are registered for message type '{registration.Type}'.");
        }
    }

    public IReadOnlyCollection<string> Types => _handlers.Keys;

    public IOutboxHandler? Resolve(IServiceProvider scope, string type) =>
        _handlers.TryGetValue(type, out var handlerType) ? (IOutboxHandler)scope.GetRequiredService(handlerType) : null;
}
