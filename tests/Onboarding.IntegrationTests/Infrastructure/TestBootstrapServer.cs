using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Onboarding.Bootstrap;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// A host with one device-facing bootstrap server (<see cref="BootstrapServerExtensions.AddBootstrapServer{TAnswers}"/>)
/// answered by a test's own answers class, on 127.0.0.1 and a free port.
/// </summary>
public sealed class TestBootstrapServer : IAsyncDisposable
{
    private readonly IHost _host;

    private TestBootstrapServer(IHost host, IPEndPoint endpoint)
    {
        _host = host;
        Endpoint = endpoint;
    }

    public IPEndPoint Endpoint { get; }

    public Uri BaseUri => new($"https://127.0.0.1:{Endpoint.Port}/");

    public IServiceProvider Services => _host.Services;

    public static async Task<TestBootstrapServer> StartAsync<TAnswers>(X509Certificate2 serverCertificate, Action<IServiceCollection>? services = null,
        int maxRequestBytes = Sztp.BootstrapServerRpc.DefaultMaxBytes, IReadOnlyList<X509Certificate2>? serverIntermediates = null)
        where TAnswers : class, IBootstrapAnswers
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        services?.Invoke(builder.Services);
        builder.Services.AddBootstrapServer<TAnswers>("test", _ => new BootstrapServerOptions
        {
            ListenAddress = IPAddress.Loopback,
            Port = 0,
            ServerCertificate = () => serverCertificate,
            ServerIntermediates = serverIntermediates ?? [],
            MaxRequestBytes = maxRequestBytes,
        });
        var host = builder.Build();
        await host.StartAsync();
        var endpoint = await host.Services.GetRequiredKeyedService<BootstrapServerEndpoint>("test").BoundEndpoint;
        return new TestBootstrapServer(host, endpoint);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
