using Wes;
using Wes.Api;
using Wes.Configuration;
using Wes.Execution;
using Wes.Persistence;

// Wes.Host           serve the WES API and execute runs (default)
// Wes.Host migrate   apply database migrations and exit
var command = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "serve";
var builder = WebApplication.CreateBuilder(command == "serve" ? args : args[1..]);
builder.AddWesConfiguration();
builder.Services.AddWesPersistence();
builder.Services.AddWesApi();
builder.Services.AddWesExecution();

var app = builder.Build();
app.UseWesErrors();
app.MapWesApi();

return await HostCommands.RunAsync(app, command);

public partial class Program;
