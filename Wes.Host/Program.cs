using Wes;
using Wes.Api;
using Wes.Configuration;
using Wes.Dashboard;
using Wes.Execution;
using Wes.Observability;
using Wes.Persistence;
using Wes.Providers.Remote;
using Wes.Security;

// Wes.Host            serve the WES API and execute runs (default)
// Wes.Host api        serve the API only; executors elsewhere run the work
// Wes.Host executor   execute runs only, with no HTTP port (but /metrics with WES_METRICS_URLS)
// Wes.Host migrate    apply the database migrations and exit
var (command, hostArgs) = HostCommands.Parse(args);
if (command == HostCommands.Executor)
{
    var worker = Host.CreateApplicationBuilder(hostArgs);
    worker.AddWesConfiguration();
    worker.AddWesRemotes();
    worker.AddWesObservability();
    worker.Services.AddWesPersistence().AddWesEngines().AddWesExecutorPool();
    return await HostCommands.RunAsync(worker.Build(), command);
}

var builder = WebApplication.CreateBuilder(hostArgs);
builder.AddWesConfiguration(apiOnly: command == HostCommands.Api);
builder.Services.AddWesPersistence().AddWesEngines().AddWesApi().AddWesSecurity();
builder.AddWesObservability();
builder.AddWesRemotes();
if (command != HostCommands.Api)
{
    builder.Services.AddWesExecutorPool();
}

var app = builder.Build();
app.UseWesErrors();
app.UseWesMetrics();
app.UseWesSecurity();
app.MapWesApi();
app.MapWesDashboard();
return await HostCommands.RunAsync(app, command);

public partial class Program;
