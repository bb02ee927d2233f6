using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.Host;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The real host (Kestrel, PostgreSQL) composed for each role: it starts, is ready, documents itself, and serves only
/// its role's routes and listeners.
/// </summary>
public class RolesTests
{
    [Theory]
    [InlineData("Nms")]
    [InlineData("Redirect")]
    [InlineData("Nms,Redirect")]
    public async Task Host_starts_ready_and_serves_swagger_in_every_role(string roles)
    {
        await using var host = await StartAsync(roles, dropPort: 0);
        using var client = host.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        var swagger = await client.GetAsync("/swagger/v1/swagger.json");
        Assert.Equal(HttpStatusCode.OK, swagger.StatusCode);
        using var document = JsonDocument.Parse(await swagger.Content.ReadAsStringAsync());
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(roles.Contains("Nms", StringComparison.Ordinal), paths.Contains("/api/customers"));
        Assert.Equal(roles.Contains("Redirect", StringComparison.Ordinal), paths.Contains("/api/redirect/orders"));
        Assert.Equal(roles.Split(',').Select(Enum.Parse<HostRole>).ToHashSet(), host.Services.GetRequiredService<HostRoles>().Roles);
    }

    [Fact]
    public async Task Redirect_only_host_has_no_nms_routes_and_no_sftp_drop()
    {
        var dropPort = FreePort();
        await using var host = await StartAsync("Redirect", dropPort);
        using var client = host.CreateClient();

        var signUp = await client.PostAsJsonAsync("/api/customers", new { name = "Acme Telecom", contactEmail = "noc@acme.example" });
        Assert.Equal(HttpStatusCode.NotFound, signUp.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/nms/host-keys")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/devices")).StatusCode);
        Assert.Null(host.Services.GetService<Onboarding.Drop.Sftp.SftpDropListener>());
        using var socket = new TcpClient();
        var refused = await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(IPAddress.Loopback, dropPort));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Theory]
    [InlineData("Nms")]
    [InlineData("Nms,Redirect")]
    public async Task Nms_host_signs_up_customers_and_runs_the_sftp_drop(string roles)
    {
        var dropPort = FreePort();
        await using var host = await StartAsync(roles, dropPort);
        using var client = host.CreateClient();

        var signUp = await client.PostAsJsonAsync("/api/customers", new { name = "Acme Telecom", contactEmail = "noc@acme.example" });
        Assert.Equal(HttpStatusCode.Created, signUp.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/nms/host-keys")).StatusCode);
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, dropPort);
        var banner = new byte[8];
        await socket.GetStream().ReadExactlyAsync(banner);
        Assert.Equal("SSH-2.0-"u8.ToArray(), banner);
    }

    [Fact]
    public async Task Unknown_role_refuses_to_start_with_a_message_naming_it_and_the_known_roles()
    {
        await using var host = new OnboardingFactory().With("Roles:0", "Nms").With("Roles:1", "Manufacturer");
        var failure = await Record.ExceptionAsync(host.InitializeAsync);

        Assert.NotNull(failure);
        Assert.Contains("Roles: unknown role 'Manufacturer'. Known roles: Nms, Redirect", failure.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "Roles:0=Redirect" }, "Redirect")]
    [InlineData(new[] { "Roles:0=nms", "Roles:1=REDIRECT" }, "Nms,Redirect")]
    [InlineData(new[] { "Roles=Redirect" }, "Redirect")]
    [InlineData(new[] { "Roles= Nms , Redirect" }, "Nms,Redirect")]
    [InlineData(new[] { "Roles=Nms,Nms" }, "Nms")]
    [InlineData(new string[0], "Nms,Redirect")]
    public void Roles_are_read_from_a_list_or_a_comma_separated_value_and_default_to_both(string[] settings, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => s.Split('=', 2))
            .Select(kv => new KeyValuePair<string, string?>(kv[0], kv[1]))).Build();

        Assert.Equal(expected.Split(',').Select(Enum.Parse<HostRole>).ToHashSet(), Modules.ReadRoles(configuration).Roles);
    }

    [Fact]
    public void Roles_from_environment_variables_and_the_command_line_use_the_standard_key_syntax()
    {
        var prefix = "ONBOARDING_ROLES_TEST_" + Guid.NewGuid().ToString("N") + "_";
        Environment.SetEnvironmentVariable(prefix + "Roles__0", "Nms");
        try
        {
            var fromEnvironment = new ConfigurationBuilder().AddEnvironmentVariables(prefix).Build();
            Assert.Equal([HostRole.Nms], Modules.ReadRoles(fromEnvironment).Roles);
        }
        finally
        {
            Environment.SetEnvironmentVariable(prefix + "Roles__0", null);
        }

        var fromCommandLine = new ConfigurationBuilder().AddCommandLine(["--Roles:0=Redirect"]).Build();
        Assert.Equal([HostRole.Redirect], Modules.ReadRoles(fromCommandLine).Roles);
    }

    [Theory]
    [InlineData("Roles=", "Roles is empty")]
    [InlineData("Roles= , ", "Roles is empty")]
    [InlineData("Roles=0", "unknown role '0'")]
    [InlineData("Roles:0=Nms Redirect", "unknown role 'Nms Redirect'")]
    public void Empty_or_unknown_roles_are_refused(string setting, string message)
    {
        var kv = setting.Split('=', 2);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new KeyValuePair<string, string?>(kv[0], kv[1])]).Build();

        var refused = Assert.Throws<InvalidOperationException>(() => Modules.ReadRoles(configuration));
        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
    }

    private static async Task<OnboardingFactory> StartAsync(string roles, int dropPort)
    {
        var host = new OnboardingFactory().With("Drop:Port", dropPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var names = roles.Split(',');
        for (var i = 0; i < names.Length; i++)
            host.With($"Roles:{i}", names[i]);
        await host.InitializeAsync();
        return host;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
