using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Bootstrap;
using Onboarding.Redirect.Data;
using Onboarding.Redirect.Handoff;
using Onboarding.Redirect.Orders;
using Onboarding.Redirect.Signing;
using Onboarding.ServiceDefaults.Database;
using Onboarding.ServiceDefaults.Outbox;
using Onboarding.Sztp;

namespace Onboarding.Redirect.Bootstrap;

/// <summary>
/// The redirect server's answers to devices (RFC 8572 §7, DESIGN.md step 3): authenticate the IDevID against the factory
/// CAs, find the order, hand the device record to the owner's NMS over SFTP (outbox-backed, batched), and only once the
/// NMS has bookkept it answer redirect-information naming the NMS bootstrap server.
/// </summary>
internal sealed class RedirectAnswers(
    RedirectDbContext db,
    RedirectDecisions decisions,
    IOutbox outbox,
    IServiceProvider services,
    IOptions<RedirectOptions> options,
    TimeProvider clock,
    ILogger<RedirectAnswers> logger) : IBootstrapAnswers
{
    private const string RefusedByNms = "refused by the NMS";

    public async Task<BootstrapAnswer> GetBootstrappingDataAsync(DeviceRequest device, GetBootstrappingDataInput input, CancellationToken cancellationToken)
    {
        var decision = await decisions.ForCertificateAsync(device.Certificate, device.Intermediates, null, cancellationToken);
        using var scope = LogScope(device, decision);
        if (Refusal(decision) is { } refusal)
            return refusal;

        var order = decision.Order!;
        var profile = decision.Profile!;
        var identity = $"certificate SHA-256 {device.Certificate.GetCertHashString(HashAlgorithmName.SHA256)} from {device.RemoteEndPoint}";
        var settings = options.Value.Handoff;
        Guid? handOff = null;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            var locked = await LockAsync(order.Id, cancellationToken);
            if (locked.State == OrderState.Cancelled)
                return BootstrapAnswer.Forbidden($"The order for serial {order.SerialNumber} was cancelled by the manufacturer.", "order-cancelled");
            var now = clock.GetUtcNow().ToPostgresPrecision();
            if (locked.State == OrderState.HandedOff)
            {
                // An earlier attempt's record reached the NMS (maybe through the outbox after a 503): answer at once.
                OrderTimeline.Apply(db, locked, OrderState.Redirected, now, $"redirected to {profile.BootstrapUrl}; {identity}");
            }
            else
            {
                OrderTimeline.Apply(db, locked, OrderState.Authenticated, now, identity);
                var model = decision.DeviceType?.Name ?? "unknown";
                handOff = await outbox.EnqueueAsync(db, HandOffOrder.MessageType,
                    new HandOffOrder(order.Id, device.Certificate.ExportCertificatePem(), model), cancellationToken);
            }

            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        // The order as the hand-off leaves it is read again below, not from this context's first copy.
        db.ChangeTracker.Clear();
        if (handOff is { } messageId)
        {
            var error = await WaitForHandOffAsync(messageId, order.Id, settings.AnswerWithin, cancellationToken);
            if (error == RefusedByNms)
            {
                logger.LogWarning("Device {Serial} not redirected: its NMS refused the device record", order.SerialNumber);
                return BootstrapAnswer.TryLater("The owner's NMS refused this device's record (see the order's timeline at the manufacturer). Try again later.",
                    "nms-refused-record", settings.RetryAfter);
            }

            if (error is not null)
            {
                logger.LogWarning("Device {Serial} not redirected yet: the hand-off to its NMS did not complete ({Error}); it stays queued", order.SerialNumber, error);
                return BootstrapAnswer.TryLater("The device record could not be handed to the owner's NMS yet; it stays queued. Try again later.",
                    "nms-unavailable", settings.RetryAfter);
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var locked = await LockAsync(order.Id, cancellationToken);
            if (locked.State == OrderState.HandedOff)
            {
                OrderTimeline.Apply(db, locked, OrderState.Redirected, clock.GetUtcNow().ToPostgresPrecision(), $"redirected to {profile.BootstrapUrl}");
                await db.SaveChangesAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        logger.LogInformation("Device {Serial} redirected to {BootstrapUrl}", order.SerialNumber, profile.BootstrapUrl);
        if (input.SignedDataPreferred && services.GetService<ISignedRedirect>() is { } signing
            && await signing.BuildAsync(order.ManufacturerId, order.SerialNumber, profile, input.Nonce, cancellationToken) is { } signed)
            return BootstrapAnswer.Data(signed);

        var content = ConveyedInformationCodec.Encode(RedirectDecisions.RedirectInformation(profile), device.Encoding);
        return BootstrapAnswer.Data(new GetBootstrappingDataOutput(SztpCms.EncodeUnsigned(device.Encoding, content)));
    }

    public async Task<BootstrapAnswer> ReportProgressAsync(DeviceRequest device, ReportProgressInput input, CancellationToken cancellationToken)
    {
        var decision = await decisions.ForCertificateAsync(device.Certificate, device.Intermediates, null, cancellationToken);
        using var scope = LogScope(device, decision);
        if (Refusal(decision) is { } refusal)
            return refusal;

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var order = await LockAsync(decision.Order!.Id, cancellationToken);
        var detail = $"progress {ProgressTypes.Name(input.ProgressType)}" + (string.IsNullOrWhiteSpace(input.Message) ? "" : $": {input.Message}");
        OrderTimeline.Note(db, order, clock.GetUtcNow().ToPostgresPrecision(), detail);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Device {Serial} reported {ProgressType}", order.SerialNumber, ProgressTypes.Name(input.ProgressType));
        return BootstrapAnswer.Recorded;
    }

    /// <summary>
    /// Runs the hand-off now and waits for it up to <paramref name="within"/>; null when the order is HandedOff, otherwise
    /// why not. If a dispatcher took the message first, the order's state tells when it is done.
    /// </summary>
    private async Task<string?> WaitForHandOffAsync(Guid messageId, Guid orderId, TimeSpan within, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(within);
        string? error = null;
        try
        {
            var run = await outbox.ProcessNowAsync(messageId, deadline.Token);
            if (run.Result == OutboxRunResult.Failed)
                error = run.Error;
            // A dispatcher took the message first: its outcome shows in the order (HandedOff, or a refusal noted).
            while (run.Result == OutboxRunResult.NotClaimed && !await IsHandedOffAsync(orderId, deadline.Token)
                && !await RefusedSinceAsync(orderId, deadline.Token))
                await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            error = $"not bookkept within {within}";
        }

        if (await IsHandedOffAsync(orderId, cancellationToken))
            return null;
        return await RefusedSinceAsync(orderId, cancellationToken) ? RefusedByNms : error ?? "not handed off";
    }

    /// <summary>The hand-off ran to its end without HandedOff: the latest event says whether the NMS refused the record.</summary>
    private Task<bool> RefusedSinceAsync(Guid orderId, CancellationToken cancellationToken) =>
        db.OrderEvents.AsNoTracking().Where(e => e.OrderId == orderId).OrderByDescending(e => e.Id).Take(1)
            .AnyAsync(e => e.Detail != null && e.Detail.StartsWith(HandOffOrderHandler.RejectedPrefix), cancellationToken);

    private Task<bool> IsHandedOffAsync(Guid orderId, CancellationToken cancellationToken) =>
        db.Orders.AsNoTracking().AnyAsync(o => o.Id == orderId && o.State == OrderState.HandedOff, cancellationToken);

    private Task<Order> LockAsync(Guid orderId, CancellationToken cancellationToken) =>
        db.Orders.FromSqlInterpolated($"SELECT * FROM redirect.orders WHERE id = {orderId} FOR UPDATE").SingleAsync(cancellationToken);

    private static BootstrapAnswer? Refusal(RedirectDecision decision) => decision.Refusal switch
    {
        null => null,
        RedirectRefusal.NotAuthenticated => BootstrapAnswer.NotAuthenticated(decision.Reason!, decision.AppTag!),
        RedirectRefusal.NoData => BootstrapAnswer.NoData(decision.Reason!, decision.AppTag!),
        _ => BootstrapAnswer.Forbidden(decision.Reason!, decision.AppTag!),
    };

    private IDisposable? LogScope(DeviceRequest device, RedirectDecision decision) => logger.BeginScope(new Dictionary<string, object>
    {
        ["ConnectionId"] = device.ConnectionId,
        ["Serial"] = decision.Serial ?? "unknown",
        ["ManufacturerId"] = decision.Order?.ManufacturerId.ToString() ?? decision.DeviceType?.ManufacturerId.ToString() ?? "unknown",
    });
}
