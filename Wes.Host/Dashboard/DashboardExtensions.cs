using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Wes.Dashboard;

/// <summary>
/// The web dashboard: static pages and scripts embedded in the executable (so a single-file binary serves them too),
/// which read everything through the WES API and its extension endpoints, as any client could.
/// </summary>
public static class DashboardExtensions
{
    /// <summary>Scripts and styles come from this server only; the API is called from the page's own origin.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    public static WebApplication MapWesDashboard(this WebApplication app)
    {
        var files = new ManifestEmbeddedFileProvider(typeof(DashboardExtensions).Assembly, "wwwroot");
        // Files live under a path that changes with every build, so browsers keep them without asking again, and a
        // new version's pages never run an old version's scripts.
        var assets = "/ui/" + typeof(DashboardExtensions).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..12];
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".mjs"] = "text/javascript";
        // Pages are served only by PageShells, with their policy and this build's asset links; a file of no known type
        // is not served, so the raw copies under the asset path answer 404.
        types.Mappings.Remove(".html");
        types.Mappings.Remove(".htm");
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = assets,
            ContentTypeProvider = types,
            OnPrepareResponse = context =>
            {
                Secure(context.Context.Response);
                context.Context.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
            },
        });

        var pages = new PageShells(files, assets);
        app.MapGet("/", (HttpContext http) => pages.Serve(http, "index.html")).ExcludeFromDescription();
        app.MapGet("/ui", () => TypedResults.Redirect("/")).ExcludeFromDescription();
        app.MapGet("/ui/runs/{run_id}", (HttpContext http) => pages.Serve(http, "run.html")).ExcludeFromDescription();
        app.MapGet("/ui/submit", (HttpContext http) => pages.Serve(http, "submit.html")).ExcludeFromDescription();
        app.MapGet("/ui/service", (HttpContext http) => pages.Serve(http, "service.html")).ExcludeFromDescription();
        return app;
    }

    /// <summary>Headers every dashboard file carries; each caller sets its own Cache-Control.</summary>
    private static void Secure(HttpResponse response)
    {
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "same-origin";
    }

    /// <summary>
    /// The pages' HTML, read once, with their links to styles and scripts pointed at this build's asset path. Pages
    /// carry no data, only the shell that fetches it with the caller's token, so they are served to anyone.
    /// </summary>
    private sealed class PageShells(IFileProvider files, string assets)
    {
        private readonly ConcurrentDictionary<string, byte[]> _pages = new(StringComparer.Ordinal);

        public IResult Serve(HttpContext http, string name)
        {
            var body = _pages.GetOrAdd(name, Load);
            Secure(http.Response);
            // Revalidated on every visit, so a new build's asset path reaches the browser at once.
            http.Response.Headers.CacheControl = "no-cache";
            http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            return TypedResults.Bytes(body, "text/html; charset=utf-8");
        }

        private byte[] Load(string name)
        {
            using var reader = new StreamReader(files.GetFileInfo(name).CreateReadStream());
            var html = reader.ReadToEnd();
            foreach (var folder in (string[])["css", "js", "vendor"])
            {
                html = html.Replace($"\"/ui/{folder}/", $"\"{assets}/{folder}/", StringComparison.Ordinal);
            }

            return Encoding.UTF8.GetBytes(html);
        }
    }
}
