using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>A Serilog sink the factory adds next to the console, so tests can read what the host logged.</summary>
public sealed class CapturedLogs : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyList<LogEvent> Events => [.. _events];

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);

    public IEnumerable<string> RenderedMessages => Events.Select(e => e.RenderMessage());
}
