using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Onboarding.Notifications.Channels;
using Onboarding.Notifications.Contracts;
using Onboarding.Notifications.Data;
using Onboarding.Notifications.Sending;
using Onboarding.ServiceDefaults.Database;
using Onboarding.ServiceDefaults.Http;

namespace Onboarding.Notifications.Api;

internal static class NotificationsApi
{
    private const string SignedContent = "<X-Onboarding-Timestamp>.<body>";
    private const string SignatureFormat = "X-Onboarding-Signature: sha256=<hex HMAC-SHA256 keyed with the secret>";

    public static void MapNotificationsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/notifications").WithTags("Notifications").RequireAuthorization();
        group.MapGet("/", List)
            .WithName("ListNotifications")
            .WithSummary("The caller's notifications, newest first, each with its channel, event, device, status and attempts; filter by status; paginated.");
        group.MapPut("/webhook", PutWebhook)
            .WithName("PutNotificationWebhook")
            .WithSummary("Set the webhook owner events are POSTed to; issues a new signing secret, shown only in this response.");
        group.MapGet("/webhook", GetWebhook)
            .WithName("GetNotificationWebhook")
            .WithSummary("The configured webhook (without its secret).");
        group.MapDelete("/webhook", DeleteWebhook)
            .WithName("DeleteNotificationWebhook")
            .WithSummary("Remove the webhook; pending webhook deliveries then fail until they are dead.");
        group.MapPost("/test", SendTest)
            .WithName("SendTestNotification")
            .WithSummary("Send a test event to every configured channel (webhook, e-mail); 202 with the deliveries to watch in GET /api/notifications.");
    }

    private static async Task<Results<Ok<PagedList<NotificationView>>, ValidationProblem>> List(
        ClaimsPrincipal user, NotificationsDbContext db, CancellationToken cancellationToken, string? status = null, int page = 1, int pageSize = 50)
    {
        var errors = new Dictionary<string, string[]>();
        DeliveryStatus? statusFilter = null;
        if (status is not null)
        {
            if (Enum.TryParse<DeliveryStatus>(status, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(status, out _))
                statusFilter = parsed;
            else
                errors["status"] = [$"Must be one of {string.Join(", ", Enum.GetNames<DeliveryStatus>())}."];
        }

        var skip = Paging.Validate(page, pageSize, errors);
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var customerId = user.GetCustomerId();
        var query = db.Deliveries.AsNoTracking().Where(d => d.CustomerId == customerId);
        if (statusFilter is { } s)
            query = query.Where(d => d.Status == s);
        var total = await query.CountAsync(cancellationToken);
        var deliveries = await query.OrderByDescending(d => d.CreatedAt).ThenBy(d => d.Id).Skip(skip).Take(pageSize)
            .Include(d => d.AttemptLog).AsSplitQuery().ToListAsync(cancellationToken);
        var items = deliveries.Select(d => new NotificationView(d.Id, d.Channel, d.Event, d.DeviceId, d.SerialNumber, d.Target, d.Status,
                d.CreatedAt, d.FinishedAt, d.LastError,
                [.. d.AttemptLog.OrderBy(a => a.Number).Select(a => new NotificationAttemptView(a.Number, a.At, a.Succeeded, a.StatusCode, a.Error))]))
            .ToList();
        return TypedResults.Ok(new PagedList<NotificationView>(items, page, pageSize, total));
    }

    private static async Task<Results<Ok<WebhookView>, ValidationProblem>> PutWebhook(
        WebhookRequest request, ClaimsPrincipal user, NotificationsDbContext db, WebhookSecrets secrets, IOptions<NotificationsOptions> options,
        TimeProvider clock, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (ValidateUrl(request.Url, settings) is { } error)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["url"] = [error] });

        var customerId = user.GetCustomerId();
        var secret = WebhookSecrets.Generate();
        var webhook = await db.Webhooks.SingleOrDefaultAsync(w => w.CustomerId == customerId, cancellationToken);
        if (webhook is null)
        {
            webhook = new Webhook { CustomerId = customerId, Url = request.Url!, ProtectedSecret = "" };
            db.Webhooks.Add(webhook);
        }

        webhook.Url = request.Url!;
        webhook.ProtectedSecret = secrets.Protect(secret);
        webhook.CreatedAt = clock.GetUtcNow().ToPostgresPrecision();
        await db.SaveChangesAsync(cancellationToken);
        // The URL may carry a token in its path or query: log the host only.
        loggers.CreateLogger(typeof(NotificationsApi)).LogInformation("Customer {CustomerId} set its notification webhook to host {Host}",
            customerId, new Uri(webhook.Url).Host);
        return TypedResults.Ok(new WebhookView(webhook.Url, webhook.CreatedAt, secret, SignatureFormat, SignedContent));
    }

    private static async Task<Results<Ok<WebhookView>, ProblemHttpResult>> GetWebhook(ClaimsPrincipal user, NotificationsDbContext db, CancellationToken cancellationToken)
    {
        var customerId = user.GetCustomerId();
        var webhook = await db.Webhooks.AsNoTracking().SingleOrDefaultAsync(w => w.CustomerId == customerId, cancellationToken);
        return webhook is null
            ? NoWebhook()
            : TypedResults.Ok(new WebhookView(webhook.Url, webhook.CreatedAt, null, SignatureFormat, SignedContent));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteWebhook(ClaimsPrincipal user, NotificationsDbContext db, CancellationToken cancellationToken)
    {
        var customerId = user.GetCustomerId();
        var deleted = await db.Webhooks.Where(w => w.CustomerId == customerId).ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 ? NoWebhook() : TypedResults.NoContent();
    }

    private static async Task<Results<Accepted<TestNotificationSent>, ProblemHttpResult>> SendTest(
        ClaimsPrincipal user, DeliveryPlanner planner, TimeProvider clock, CancellationToken cancellationToken)
    {
        var customerId = user.GetCustomerId();
        var eventId = Guid.CreateVersion7();
        var at = clock.GetUtcNow().ToPostgresPrecision();
        var deliveries = await planner.PlanAsync(eventId, customerId, id => new OwnerEvent(id, OwnerEvent.Test, at, customerId, null), cancellationToken);
        if (deliveries.Count == 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "No notification channel",
                detail: "Set a webhook (PUT /api/notifications/webhook) first; e-mail is sent only when the NMS has an SMTP relay configured.");
        }

        return TypedResults.Accepted("/api/notifications", new TestNotificationSent(eventId, deliveries));
    }

    private static ProblemHttpResult NoWebhook() => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No webhook",
        detail: "No notification webhook is configured.");

    /// <summary>The URL rules; the SSRF guard also checks every address at connect time (<see cref="WebhookAddresses"/>).</summary>
    internal static string? ValidateUrl(string? url, NotificationsOptions settings)
    {
        var schemes = settings.AllowHttpWebhooks ? "http or https" : "https";
        if (string.IsNullOrWhiteSpace(url) || url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
            return "Must be an absolute URL of at most 2048 characters.";
        if (uri.Scheme != Uri.UriSchemeHttps && !(settings.AllowHttpWebhooks && uri.Scheme == Uri.UriSchemeHttp))
            return $"The scheme must be {schemes}.";
        if (!string.IsNullOrEmpty(uri.UserInfo))
            return "Must not carry credentials (user:password@); put a token in the path or query instead.";
        if (!string.IsNullOrEmpty(uri.Fragment))
            return "Must not have a fragment.";
        if (!settings.AllowPrivateNetworkWebhooks
            && (uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && WebhookAddresses.IsNonPublic(address))))
            return "Must reach a public address (loopback, private and link-local addresses are refused).";
        return null;
    }
}
