using System.Globalization;
using Onboarding.Inventory.Contracts;
using Onboarding.Provisioning.Contracts;

namespace Onboarding.Provisioning.Apply;

/// <summary>
/// A cli template: each command in its own session channel with an "exec" request (RFC 4254 §6.5), in order, stopping
/// at the first that is refused or exits non-zero (§6.10 exit-status). One exec per command rather than one script:
/// network CLIs (IOS, Junos' cli -c aside) run one command per exec and have no shell to read a script; the exit status
/// names the failing line; nothing after a failure runs. Its stderr goes on the timeline, the command itself never
/// (it may carry a password). There is no read-back for CLI: every command exiting 0 is the verification, so
/// Configured and Onboarded follow each other.
/// </summary>
internal static class CliApplier
{
    public static async Task<PreconfigurationOutcome> RunAsync(PreconfigurationRun run, IReadOnlyList<string> commands, CancellationToken cancellationToken)
    {
        if (run.State == DeviceState.CalledHome)
        {
            for (var i = 0; i < commands.Count; i++)
            {
                var which = string.Create(CultureInfo.InvariantCulture, $"command {i + 1} of {commands.Count}");
                run.Step = which;
                var channel = await run.Session.OpenSessionAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    if (!await channel.ExecAsync(commands[i], cancellationToken).ConfigureAwait(false))
                        return await run.FailAsync($"{which}: the device refused the exec request", cancellationToken).ConfigureAwait(false);

                    // Read stdout to its end (discarded: it may echo secrets) so the device is never blocked on our window.
                    var buffer = new byte[16 * 1024];
                    while (await channel.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
                    {
                    }

                    await channel.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
                    var status = await channel.ExitStatus.WaitAsync(cancellationToken).ConfigureAwait(false);
                    if (status != 0)
                    {
                        var stderr = channel.StandardError.Trim();
                        var exit = status is { } s ? string.Create(CultureInfo.InvariantCulture, $"exit status {s}") : "no exit status";
                        return await run.FailAsync($"{which} failed with {exit}" + (stderr.Length > 0 ? ": " + stderr : ""), cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    await CloseAsync(channel).ConfigureAwait(false);
                }
            }

            var done = string.Create(CultureInfo.InvariantCulture, $"cli: {commands.Count} command(s) run over exec, each exited 0");
            if (!await run.RecordAsync(DeviceState.Configured, done, cancellationToken).ConfigureAwait(false))
                return new PreconfigurationOutcome(run.State, false, "the device's state changed during pre-configuration");
        }

        const string verified = "cli: every command exited 0 (CLI templates have no read-back)";
        return await run.RecordAsync(DeviceState.Onboarded, verified, cancellationToken).ConfigureAwait(false)
            ? run.Succeeded(verified)
            : new PreconfigurationOutcome(run.State, false, "the device's state changed during pre-configuration");
    }

    private static async Task CloseAsync(Onboarding.Ssh.Connection.SshChannel channel)
    {
        try
        {
            await channel.CloseAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Onboarding.Ssh.SshConnectionLostException or Onboarding.Ssh.SshProtocolException or TimeoutException or IOException)
        {
            // The command's outcome is already known; a channel that will not close is the session's problem.
        }
    }
}
