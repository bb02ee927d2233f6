using System.Xml.Linq;
using Onboarding.Inventory.Contracts;
using Onboarding.Netconf;
using Onboarding.Netconf.Datastore;
using Onboarding.Netconf.Messages;
using Onboarding.Provisioning.Contracts;
using Onboarding.Provisioning.Templates;
using Onboarding.Ssh;

namespace Onboarding.Provisioning.Apply;

/// <summary>
/// A netconf template over the device's "netconf" subsystem (RFC 6242 §3): with :candidate, lock candidate,
/// edit-config, commit, unlock (RFC 6241 §8.3); else, with :writable-running, lock running, edit-config, unlock
/// (§8.2). Configured after that; then get-config of running, filtered to the template's top elements (§6), must
/// hold every rendered element and leaf: Onboarded. No validate before commit: yuma123 netconfd 2.13 leaves running
/// unchanged on a commit that follows validate (Onboarding.Netconf README), and a commit validates anyway (§8.3.4.1).
/// </summary>
internal static class NetconfApplier
{
    public static async Task<PreconfigurationOutcome> RunAsync(PreconfigurationRun run, RenderedConfig config, CancellationToken cancellationToken)
    {
        run.Step = "netconf subsystem";
        var channel = await run.Session.OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!await channel.RequestSubsystemAsync("netconf", cancellationToken).ConfigureAwait(false))
                return await run.FailAsync("the device refused the netconf subsystem", cancellationToken).ConfigureAwait(false);

            run.Step = "hello";
            using var netconf = await NetconfClientSession.ConnectAsync(channel.AsStream(), null, cancellationToken).ConfigureAwait(false);
            try
            {
                if (run.State == DeviceState.CalledHome)
                {
                    var how = await EditAsync(run, netconf, config, cancellationToken).ConfigureAwait(false);
                    if (how is null)
                        return await run.FailAsync("the device offers neither :candidate nor :writable-running (RFC 6241 §8.3, §8.2)", cancellationToken).ConfigureAwait(false);
                    if (!await run.RecordAsync(DeviceState.Configured, "netconf: " + how, cancellationToken).ConfigureAwait(false))
                        return new PreconfigurationOutcome(run.State, false, "the device's state changed during pre-configuration");
                }

                run.Step = "get-config";
                var data = await netconf.GetConfigAsync(DatastoreName.Running, Filter(config), cancellationToken).ConfigureAwait(false);
                var differences = ConfigVerification.FindDifferences(config.Config, data);
                if (differences.Count > 0)
                {
                    return await run.FailAsync($"verification with get-config: the running configuration differs from the template at "
                        + string.Join(", ", differences.Take(5)) + (differences.Count > 5 ? $" and {differences.Count - 5} more" : ""), cancellationToken).ConfigureAwait(false);
                }

                var verified = $"netconf: verified with get-config (subtree filter {string.Join(", ", config.TopElements.Select(e => "<" + e.Name.LocalName + ">"))})";
                if (!await run.RecordAsync(DeviceState.Onboarded, verified, cancellationToken).ConfigureAwait(false))
                    return new PreconfigurationOutcome(run.State, false, "the device's state changed during pre-configuration");
                await BestEffortAsync(() => netconf.CloseSessionAsync(cancellationToken)).ConfigureAwait(false);
                return run.Succeeded(verified);
            }
            catch (NetconfRpcException e)
            {
                // The device's own words (RFC 6241 §4.3): error-type/error-tag: error-message at error-path.
                return await run.FailAsync($"{run.Step} refused by the device: {string.Join("; ", e.Errors.Select(x => x.ToString()))}", cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await BestEffortAsync(() => channel.CloseAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false);
        }
    }

    /// <summary>Returns how the configuration was written, or null when the device offers no writable datastore.</summary>
    private static async Task<string?> EditAsync(PreconfigurationRun run, NetconfClientSession netconf, RenderedConfig config, CancellationToken cancellationToken)
    {
        var capabilities = netconf.ServerCapabilities;
        var target = capabilities.HasCandidate ? DatastoreName.Candidate : capabilities.HasWritableRunning ? DatastoreName.Running : (DatastoreName?)null;
        if (target is not { } datastore)
            return null;
        var name = datastore == DatastoreName.Candidate ? "candidate" : "running";

        // RFC 6241 §7.5: lock, so no other session changes the datastore between our edit and our commit.
        run.Step = $"lock {name}";
        await netconf.LockAsync(datastore, cancellationToken).ConfigureAwait(false);
        try
        {
            run.Step = $"edit-config to {name}";
            try
            {
                await netconf.EditConfigAsync(datastore, config.Config, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (datastore == DatastoreName.Candidate)
                {
                    run.Step = "commit";
                    await netconf.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (NetconfRpcException) when (datastore == DatastoreName.Candidate)
            {
                // Leave no half-edited candidate behind for the next session (§8.3.4.2).
                await BestEffortAsync(() => netconf.DiscardChangesAsync(cancellationToken)).ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            await BestEffortAsync(() => netconf.UnlockAsync(datastore, cancellationToken)).ConfigureAwait(false);
        }

        return datastore == DatastoreName.Candidate ? "lock candidate, edit-config to candidate, commit, unlock" : "lock running, edit-config to running, unlock";
    }

    /// <summary>RFC 6241 §6.4.1 selection nodes: each top element, empty, selects its whole subtree.</summary>
    internal static XElement Filter(RenderedConfig config) =>
        new(NetconfXml.Base + "filter", new XAttribute("type", "subtree"), config.TopElements.Select(e => new XElement(e.Name)));

    /// <summary>Clean-up (unlock, discard, close) must not hide the error that brought us here.</summary>
    private static async Task BestEffortAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is NetconfException or NetconfRpcException or SshConnectionLostException or SshProtocolException or IOException
            or OperationCanceledException or TimeoutException or ObjectDisposedException)
        {
            // Already failing or finished; the session is closed by the caller either way.
        }
    }
}
