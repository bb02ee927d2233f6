using Onboarding.Host;
using Onboarding.ServiceDefaults;

if (HostCommands.RunWithoutHost(args) is { } exitCode)
    return exitCode;

var builder = WebApplication.CreateBuilder(HostCommands.ConfigurationArguments(args));

builder.AddServiceDefaults();
builder.AddModules(); // the modules of the configured Roles (Modules.cs)

var app = builder.Build();

app.UseServiceDefaults();
app.MapHealth();
app.MapModules();

return await HostCommands.RunAsync(app, args);

/// <summary>Lets WebApplicationFactory find the entry point.</summary>
public partial class Program;
