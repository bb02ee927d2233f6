using Onboarding.Accounts;
using Onboarding.Drop;
using Onboarding.Host;
using Onboarding.HostKeys;
using Onboarding.Inventory;
using Onboarding.ServiceDefaults;
using Onboarding.Telemetry;

var builder = WebApplication.CreateBuilder(HostCommands.ConfigurationArguments(args));

builder.AddServiceDefaults();
builder.AddHostKeys();
builder.AddAccounts();
builder.AddInventory();
builder.AddDrop();
builder.AddTelemetry();

var app = builder.Build();

app.UseServiceDefaults();
app.MapHealth();
app.MapHostKeys();
app.MapAccounts();
app.MapInventory();
app.MapDrop();
app.MapTelemetry();

return await HostCommands.RunAsync(app, args);

/// <summary>Lets WebApplicationFactory find the entry point.</summary>
public partial class Program;
