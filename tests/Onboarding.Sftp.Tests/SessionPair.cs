using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Onboarding.Sftp.Tests;

/// <summary>Our client and our server joined by an in-memory duplex pipe, serving a temporary directory.</summary>
internal sealed class SessionPair : IAsyncDisposable
{
    private SessionPair(string root, DirectorySftpHandler handler, DuplexPipeStream clientStream, DuplexPipeStream serverStream, Task server, SftpClient client)
    {
        Root = root;
        Handler = handler;
        ClientStream = clientStream;
        ServerStream = serverStream;
        Server = server;
        Client = client;
    }

    public string Root { get; }

    public DirectorySftpHandler Handler { get; }

    public DuplexPipeStream ClientStream { get; }

    public DuplexPipeStream ServerStream { get; }

    public Task Server { get; }

    public SftpClient Client { get; }

    public static string NewTempDirectory()
    {
        var root = Path.Combine(Path.GetTempPath(), "sftp-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        return root;
    }

    public static async Task<SessionPair> StartAsync(
        Func<string, DirectorySftpHandler>? handlerFactory = null,
        SftpServerOptions? serverOptions = null,
        SftpClientOptions? clientOptions = null,
        ILogger? logger = null)
    {
        var root = NewTempDirectory();
        var handler = handlerFactory?.Invoke(root) ?? new DirectorySftpHandler(root);
        var (clientStream, serverStream) = DuplexPipeStream.CreatePair();
        var server = Task.Run(() => SftpServer.RunAsync(serverStream, handler, serverOptions ?? SftpServerOptions.Default, logger ?? NullLogger.Instance, CancellationToken.None));
        var client = new SftpClient(clientStream, clientOptions);
        var connect = client.ConnectAsync();
        var first = await Task.WhenAny(connect, server, Task.Delay(TimeSpan.FromSeconds(10)));
        if (first == server)
        {
            await server; // surfaces why the server stopped
            throw new InvalidOperationException("server ended before the client connected");
        }

        await connect.WaitAsync(TimeSpan.FromSeconds(1));
        return new SessionPair(root, handler, clientStream, serverStream, server, client);
    }

    /// <summary>Drops the client side of the connection, as a vanished peer would.</summary>
    public async Task DropClientAsync()
    {
        await ClientStream.DisposeAsync();
        await Server.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        await ClientStream.DisposeAsync();
        try
        {
            await Server.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (SftpProtocolException)
        {
        }

        await Client.DisposeAsync();
        await ServerStream.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }
}

/// <summary>Collects log entries so tests can assert a handler failure was logged.</summary>
internal sealed class ListLogger : ILogger
{
    public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Entries)
        {
            Entries.Add((logLevel, formatter(state, exception), exception));
        }
    }
}
