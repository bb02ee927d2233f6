using Onboarding.Accounts;
using Onboarding.Host;
using Onboarding.HostKeys;
using Onboarding.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddHostKeys();
builder.AddAccounts();

var app = builder.Build();

app.UseServiceDefaults();
app.MapHealth();
app.MapHostKeys();
app.MapAccounts();

return await HostCommands.RunAsync(app, args);

/// <summary>Lets WebApplicationFactory find the entry point.</summary>
public partial class Program;
