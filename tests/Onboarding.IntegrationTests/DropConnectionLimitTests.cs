using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Options;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Inventory.Api;
using Onboarding.Inventory.Contracts;

namespace Onboarding.IntegrationTests;

public sealed class FewUnauthenticatedFactory : OnboardingFactory
{
    public FewUnauthenticatedFactory() => With("Drop:MaxUnauthenticated", "4").With("Drop:MaxUnauthenticatedPerAddress", "2");
}

/// <summary>
/// Connections that never log in are capped per address and in total (like OpenSSH's MaxStartups), over raw TCP from
/// several loopback addresses (Linux routes all of 127.0.0.0/8 to lo, so a socket may bind any of them as its source).
/// </summary>
public class DropConnectionLimitTests(FewUnauthenticatedFactory factory) : IClassFixture<FewUnauthenticatedFactory>
{
    private const string Refusal = "too many unauthenticated connections";

    [Fact]
    public async Task Connections_that_never_log_in_are_capped_per_address_and_in_total_and_a_logged_in_manufacturer_keeps_working()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Crowded Drop Telecom");
        await using var loggedIn = await setup.ConnectAsync(factory);
        var held = new List<Socket>();
        try
        {
            held.Add(await HoldAsync("127.0.0.1"));
            held.Add(await HoldAsync("127.0.0.1"));

            // A third from the same address is over the per-address limit of 2, although only 2 of 4 slots are taken.
            var (received, closed) = await ProbeAsync("127.0.0.1");
            Assert.True(closed, "a refused connection is closed at once, long before the 30 s authentication timeout");
            Assert.StartsWith("SSH-2.0-", received, StringComparison.Ordinal);
            Assert.Contains(Refusal, received, StringComparison.Ordinal);
            await AssertLoggedAsync("SFTP connection from \"127.0.0.1\" refused: too many unauthenticated connections (2 of at most 4 in total, 2 of at most 2 from this address)");

            held.Add(await HoldAsync("127.0.0.2"));
            held.Add(await HoldAsync("127.0.0.3"));

            // Now all 4 slots are taken: a fresh address is refused too.
            (received, closed) = await ProbeAsync("127.0.0.4");
            Assert.True(closed);
            Assert.Contains(Refusal, received, StringComparison.Ordinal);
            await AssertLoggedAsync("SFTP connection from \"127.0.0.4\" refused: too many unauthenticated connections (4 of at most 4 in total, 0 of at most 2 from this address)");

            // OpenSSH's client understands the refusal and tells its user why.
            var port = factory.SftpPort.ToString(CultureInfo.InvariantCulture);
            var sftp = await ExternalTool.RunAsync("sftp", ["-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "-P", port, "-b", "/dev/null", $"{setup.Credentials.Username}@127.0.0.1"]);
            Assert.NotEqual(0, sftp.ExitCode);
            Assert.True(sftp.Stderr.Contains(Refusal, StringComparison.Ordinal), sftp.Stderr);

            // The manufacturer that had logged in before does not count and is not disturbed.
            using var device = setup.Ca.IssueDevice("SN-CROWD");
            await loggedIn.UploadAsync("crowd.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-CROWD", setup.Profile.Name, device)));
            Assert.Equal(DeviceState.Bookkept, (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/SN-CROWD"))!.State);
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }

        // Once the held connections are gone, their slots are free again: a new manufacturer session logs in.
        await using var again = await RetryAsync(() => setup.ConnectAsync(factory));
        Assert.Contains(await again.Sftp.ListDirectoryAsync("/incoming"), e => e.FileName == "crowd.xml");
    }

    [Theory]
    [InlineData("Drop:MaxUnauthenticated", "0", "Drop:MaxUnauthenticated and Drop:MaxUnauthenticatedPerAddress must be at least 1")]
    [InlineData("Drop:MaxUnauthenticatedPerAddress", "0", "Drop:MaxUnauthenticated and Drop:MaxUnauthenticatedPerAddress must be at least 1")]
    [InlineData("Drop:RecentUploadVisibility", "-00:00:01", "Drop:RecentUploadVisibility must not be negative")]
    [InlineData("Drop:MaxGroupFiles", "0", "Drop:MaxGroupFiles, Drop:MaxConcurrentGroups and Drop:MaxQueuedCloses must be at least 1")]
    [InlineData("Drop:MaxQueuedCloses", "0", "Drop:MaxGroupFiles, Drop:MaxConcurrentGroups and Drop:MaxQueuedCloses must be at least 1")]
    [InlineData("Drop:MinFilesForConcurrentGroup", "0", "Drop:MinFilesForConcurrentGroup must be at least 1")]
    [InlineData("Drop:GroupWaitLimit", "00:00:00", "Drop:GroupWaitLimit must be positive")]
    public async Task Drop_settings_that_cannot_work_stop_the_start(string key, string value, string message)
    {
        await using var badFactory = new OnboardingFactory().With(key, value);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(badFactory.InitializeAsync);

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    /// <summary>A raw TCP connection that is served (the server's identification arrives) and then never says a word.</summary>
    private async Task<Socket> HoldAsync(string from)
    {
        var socket = await ConnectFromAsync(from);
        var (received, closed) = await ReadAsync(socket, untilLine: true, TimeSpan.FromSeconds(10));
        Assert.False(closed, $"a connection from {from} within the limits must be served, got: {received}");
        Assert.StartsWith("SSH-2.0-", received, StringComparison.Ordinal);
        return socket;
    }

    /// <summary>Connects and reads until the server closes (or 10 s pass): what a refused client gets.</summary>
    private async Task<(string Received, bool Closed)> ProbeAsync(string from)
    {
        using var socket = await ConnectFromAsync(from);
        return await ReadAsync(socket, untilLine: false, TimeSpan.FromSeconds(10));
    }

    private async Task<Socket> ConnectFromAsync(string from)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
        await socket.ConnectAsync(IPAddress.Loopback, factory.SftpPort);
        return socket;
    }

    private static async Task<(string Received, bool Closed)> ReadAsync(Socket socket, bool untilLine, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var received = new List<byte>();
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var count = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (count == 0)
                    return (Encoding.Latin1.GetString([.. received]), true);
                received.AddRange(buffer.AsSpan(0, count));
                if (untilLine && received.Contains((byte)'\n'))
                    return (Encoding.Latin1.GetString([.. received]), false);
            }
        }
        catch (OperationCanceledException)
        {
            return (Encoding.Latin1.GetString([.. received]), false);
        }
    }

    private async Task AssertLoggedAsync(string expected)
    {
        // The log line is written before the socket is closed, but give the sink a moment.
        for (var i = 0; i < 50 && !factory.Logs.RenderedMessages.Any(m => m.Contains(expected, StringComparison.Ordinal)); i++)
            await Task.Delay(100);
        Assert.Contains(factory.Logs.RenderedMessages, m => m.Contains(expected, StringComparison.Ordinal));
    }

    /// <summary>The server notices a closed connection asynchronously; retry for a few seconds.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> attempt)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                return await attempt();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
