using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Onboarding.Inventory.Contracts;
using Onboarding.Notifications.Api;
using Onboarding.Notifications.Channels;
using Onboarding.Notifications.Data;
using Onboarding.Notifications.Sending;
using Onboarding.ServiceDefaults;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.Notifications;

/// <summary>
/// Owner notifications (DESIGN.md step 6): when a device is onboarded or rejected, its customer is told by a signed
/// webhook and/or e-mail, each delivery sent and retried through the transactional outbox.
/// </summary>
public static class NotificationsModule
{
    public static IHostApplicationBuilder AddNotifications(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<NotificationsOptions>().Bind(builder.Configuration.GetSection(NotificationsOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<NotificationsOptions>, NotificationsOptionsValidator>();
        services.AddModuleDatabase<NotificationsDbContext>("notifications");
        services.AddSingleton<WebhookSecrets>();
        services.AddHttpClient(WebhookSender.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var settings = provider.GetRequiredService<IOptions<NotificationsOptions>>().Value;
                var handler = new SocketsHttpHandler
                {
                    // A redirect could lead anywhere (SSRF) and re-POSTs the body: a 3xx is a failed attempt.
                    AllowAutoRedirect = false,
                    UseCookies = false,
                    UseProxy = false,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                };
                if (!settings.AllowPrivateNetworkWebhooks)
                    handler.ConnectCallback = WebhookAddresses.ConnectPublicAsync;
                return handler;
            });
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<EmailSender>();
        services.AddScoped<DeliveryPlanner>();
        services.AddOutboxHandler<DeviceStateChangedHandler>(DeviceStateChanged.MessageType);
        services.AddOutboxHandler<DeliverNotificationHandler>(DeliverNotification.MessageType);
        return builder;
    }

    public static IEndpointRouteBuilder MapNotifications(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapNotificationsApi();
        return endpoints;
    }
}
