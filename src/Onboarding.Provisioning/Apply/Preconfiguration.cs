using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Onboarding.Inventory.Contracts;
using Onboarding.Netconf;
using Onboarding.Provisioning.Contracts;
using Onboarding.Provisioning.Data;
using Onboarding.Provisioning.Templates;
using Onboarding.Ssh;

namespace Onboarding.Provisioning.Apply;

/// <summary>
/// <see cref="IPreconfiguration"/>: finds the customer's template for the device's model (else <c>*</c>), renders it
/// for the device, and applies and verifies it within <see cref="ProvisioningOptions.ApplyTimeout"/>. A device past a
/// step skips it: Configured is only verified, Onboarded gets nothing. Without a template the device stays CalledHome
/// (README, "Pre-configuration": Onboarded would be final for this module, so a template added later could never reach
/// it; staying lets the next call home apply it).
/// </summary>
internal sealed partial class Preconfiguration(
    TemplateStore templates,
    TemplateRenderer renderer,
    IDeviceDirectory directory,
    IDeviceLifecycle lifecycle,
    IManufacturerAccounts manufacturers,
    IOptions<ProvisioningOptions> options,
    ILogger<Preconfiguration> logger) : IPreconfiguration
{
    public async Task<PreconfigurationOutcome> ApplyAsync(DeviceIdentity device, SshClientSession session, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(session);
        // The freshest state: call home recorded CalledHome just before, and another session may have moved the device since.
        var current = await directory.GetAsync(device.Id, cancellationToken).ConfigureAwait(false) ?? device;
        var run = new PreconfigurationRun(current, session, source, lifecycle, logger);
        switch (current.State)
        {
            case DeviceState.Onboarded:
                LogNothingToDo(current.SerialNumber, current.Id);
                return run.Succeeded("already onboarded: nothing to apply");
            case DeviceState.CalledHome or DeviceState.Configured:
                break;
            default:
                LogNotReady(current.SerialNumber, current.Id, current.State);
                return new PreconfigurationOutcome(current.State, false, $"a device in state {current.State} is not pre-configured");
        }

        var template = await templates.FindForDeviceAsync(current.CustomerId, current.Model, cancellationToken).ConfigureAwait(false);
        if (template is null)
        {
            var none = $"no pre-configuration template for model '{current.Model}' and no '*' template: the device stays {current.State} until one exists and it calls home again";
            LogNoTemplate(current.SerialNumber, current.Id, current.Model);
            // Said once, not on every call home until someone writes the template.
            await run.NoteOnceAsync(none, cancellationToken).ConfigureAwait(false);
            return new PreconfigurationOutcome(run.State, false, none);
        }

        var timeout = options.Value.ApplyTimeout;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            var variables = await VariablesAsync(current, TemplateVariables.AddressOf(session.HostKeyContext.RemoteEndPoint), cancellationToken).ConfigureAwait(false);
            run.Step = "render";
            var kind = TemplateKinds.FromStored(template.Kind);
            LogApplying(current.SerialNumber, current.Id, template.DeviceType, template.Kind, current.State);
            return kind == TemplateKind.Netconf
                ? await NetconfApplier.RunAsync(run, renderer.RenderNetconf(template.Body, variables), bounded.Token).ConfigureAwait(false)
                : await CliApplier.RunAsync(run, renderer.RenderCli(template.Body, variables), bounded.Token).ConfigureAwait(false);
        }
        catch (TemplateException e)
        {
            return await run.FailAsync($"template '{template.DeviceType}' does not render for this device: {e.Message}", cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return await run.FailAsync(string.Create(CultureInfo.InvariantCulture, $"no answer within {timeout} (Provisioning:ApplyTimeout) at {run.Step}"), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NetconfException or SshConnectionLostException or SshProtocolException or SshChannelOpenException or IOException)
        {
            return await run.FailAsync($"the session broke at {run.Step}: {e.Message}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>What a template sees for this device (README, "Pre-configuration", variables).</summary>
    public async Task<TemplateVariables> VariablesAsync(DeviceIdentity device, string? address, CancellationToken cancellationToken)
    {
        var trust = await manufacturers.GetTrustAsync(device.ManufacturerId, cancellationToken).ConfigureAwait(false);
        return new TemplateVariables(device.SerialNumber, device.Id.ToString(), device.Model, device.CustomerId.ToString(),
            trust?.CustomerName ?? "", device.ManufacturerId.ToString(), trust?.ManufacturerName ?? "", address);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pre-configuration of {Serial} ({DeviceId}): already onboarded, nothing to apply")]
    private partial void LogNothingToDo(string serial, DeviceId deviceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pre-configuration of {Serial} ({DeviceId}): not applied in state {State}")]
    private partial void LogNotReady(string serial, DeviceId deviceId, DeviceState state);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pre-configuration of {Serial} ({DeviceId}): no template for model {Model} nor '*'")]
    private partial void LogNoTemplate(string serial, DeviceId deviceId, string model);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pre-configuration of {Serial} ({DeviceId}): applying template {DeviceType} ({Kind}) from state {State}")]
    private partial void LogApplying(string serial, DeviceId deviceId, string deviceType, string kind, DeviceState state);
}
