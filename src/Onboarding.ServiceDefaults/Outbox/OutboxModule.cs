using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.ServiceDefaults.Outbox;

/// <summary>The transactional outbox every module uses for facts it must not lose (DESIGN.md, "Modules and how they talk").</summary>
public static class OutboxModule
{
    public static IHostApplicationBuilder AddOutbox(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<OutboxOptions>().Bind(builder.Configuration.GetSection("Outbox")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OutboxOptions>, OutboxOptionsValidator>();
        // Registered before any module's migrations, so the table exists when theirs (or their handlers) need it.
        services.AddSingleton(new ModuleMigrations("outbox", typeof(OutboxModule).Assembly));
        services.AddSingleton<OutboxStore>();
        services.AddSingleton<OutboxHandlers>();
        services.AddSingleton<TransactionalOutbox>();
        services.AddSingleton<IOutbox>(provider => provider.GetRequiredService<TransactionalOutbox>());
        services.AddSingleton<OutboxDispatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<OutboxDispatcher>());
        services.AddHealthChecks().AddCheck<OutboxHealthCheck>("outbox", tags: ["ready"]);
        return builder;
    }

    /// <summary>Registers the idempotent handler of one message type (one handler per type); it runs in a scope of its own.</summary>
    public static IServiceCollection AddOutboxHandler<THandler>(this IServiceCollection services, string type)
        where THandler : class, IOutboxHandler
    {
        services.AddScoped<THandler>();
        services.AddSingleton(new OutboxHandlerRegistration(type, typeof(THandler)));
        return services;
    }

    public static IEndpointRouteBuilder MapOutbox(this IEndpointRouteBuilder endpoints) => endpoints.MapOutboxApi();
}
