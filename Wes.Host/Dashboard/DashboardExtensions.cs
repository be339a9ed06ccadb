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
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".mjs"] = "text/javascript";
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = "/ui",
            ContentTypeProvider = types,
            // Revalidated on every load: the files change with the binary, and a 304 costs next to nothing.
            OnPrepareResponse = context => Secure(context.Context.Response),
        });

        app.MapGet("/", (HttpContext http) => Page(http, files, "index.html")).ExcludeFromDescription();
        app.MapGet("/ui", () => TypedResults.Redirect("/")).ExcludeFromDescription();
        app.MapGet("/ui/runs/{run_id}", (HttpContext http) => Page(http, files, "run.html")).ExcludeFromDescription();
        app.MapGet("/ui/submit", (HttpContext http) => Page(http, files, "submit.html")).ExcludeFromDescription();
        app.MapGet("/ui/service", (HttpContext http) => Page(http, files, "service.html")).ExcludeFromDescription();
        return app;
    }

    private static IResult Page(HttpContext http, IFileProvider files, string name)
    {
        // Pages carry no data, only the shell that fetches it with the caller's token, so they are served to anyone.
        Secure(http.Response);
        http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        return TypedResults.Stream(files.GetFileInfo(name).CreateReadStream(), "text/html; charset=utf-8");
    }

    private static void Secure(HttpResponse response)
    {
        response.Headers.CacheControl = "no-cache";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "same-origin";
    }
}
