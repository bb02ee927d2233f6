using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Onboarding.Drop.Api;
using Onboarding.Drop.Data;
using Onboarding.Drop.Sftp;
using Onboarding.ServiceDefaults;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.Drop;

/// <summary>The NMS SFTP drop where manufacturers upload device records, and the record of every upload.</summary>
public static class DropModule
{
    public static IHostApplicationBuilder AddDrop(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DropOptions>().Bind(builder.Configuration.GetSection("Drop"))
            .Validate(o => o.MaxUnauthenticated >= 1 && o.MaxUnauthenticatedPerAddress >= 1,
                "Drop:MaxUnauthenticated and Drop:MaxUnauthenticatedPerAddress must be at least 1")
            .Validate(o => o.RecentUploadVisibility >= TimeSpan.Zero, "Drop:RecentUploadVisibility must not be negative (zero hides uploads at once)")
            .Validate(o => o.MaxGroupFiles >= 1 && o.MaxConcurrentGroups >= 1 && o.MaxQueuedCloses >= 1,
                "Drop:MaxGroupFiles, Drop:MaxConcurrentGroups and Drop:MaxQueuedCloses must be at least 1")
            .Validate(o => o.MinFilesForConcurrentGroup >= 1, "Drop:MinFilesForConcurrentGroup must be at least 1")
            .Validate(o => o.GroupWaitLimit > TimeSpan.Zero, "Drop:GroupWaitLimit must be positive")
            .ValidateOnStart();
        services.AddModuleDatabase<DropDbContext>("drop");
        services.AddOutboxHandler<BookkeepUploadHandler>(BookkeepUpload.MessageType);
        services.AddOutboxHandler<BookkeepUploadsHandler>(BookkeepUploads.MessageType);
        services.AddSingleton<InlineUploadGroups>();
        services.AddSingleton<UploadGroupCommit>();
        services.AddSingleton<UploadCommitter>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<RecentUploads>();
        services.AddSingleton<SftpDropListener>();
        services.AddHostedService(provider => provider.GetRequiredService<SftpDropListener>());
        return builder;
    }

    public static IEndpointRouteBuilder MapDrop(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapUploadsApi();
        return endpoints;
    }
}
