using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using FluentValidation;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Security;

namespace Wes.Api;

/// <summary>Everything a RunWorkflow request must satisfy before anything is stored.</summary>
public sealed class RunSubmissionValidator : AbstractValidator<RunSubmission>
{
    /// <summary>In UTF-8 bytes: with the run directory in front, the path stays well inside PATH_MAX (4096).</summary>
    public const int MaxAttachmentNameLength = 1024;

    public RunSubmissionValidator(IOptions<WesOptions> options, OutboundAddressPolicy fetchPolicy)
    {
        RuleForEach(s => s.ReadErrors).Must(_ => false).WithMessage((_, error) => error);

        RuleFor(s => s.WorkflowType).NotEmpty().WithMessage("workflow_type is required (e.g. \"CWL\").")
            .DependentRules(() => RuleFor(s => s).Custom(CheckEngine));

        RuleFor(s => s.WorkflowUrl).NotEmpty().WithMessage("workflow_url is required.")
            .DependentRules(() => RuleFor(s => s).Custom(CheckWorkflowUrl));

        RuleFor(s => s.WorkflowParams).Must(f => f.Error is null).WithMessage((_, f) => f.Error)
            .DependentRules(() => RuleFor(s => s).Custom((s, context) =>
            {
                foreach (var problem in InputFileRules.Problems(s.WorkflowParams.Value, options.Value.AllowedFileRootList))
                {
                    context.AddFailure("workflow_params", problem);
                }
            }));
        RuleFor(s => s.Tags).Must(f => f.Error is null).WithMessage((_, f) => f.Error)
            .Must(f => AllScalars(f.Value)).WithMessage("tags must map names to strings.")
            .DependentRules(() => RuleFor(s => s).Custom(CheckUnpackTag))
            .DependentRules(() => RuleFor(s => s).Custom((s, context) => CheckSlurmTags(s, context, options.Value)));
        RuleFor(s => s.WorkflowEngineParameters).Must(f => f.Error is null).WithMessage((_, f) => f.Error)
            .Must(f => AllScalars(f.Value)).WithMessage("workflow_engine_parameters must map names to strings.");

        RuleFor(s => s.Attachments).Custom((attachments, context) =>
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var attachment in attachments)
            {
                if (AttachmentNameProblem(attachment.Name) is { } problem)
                {
                    context.AddFailure("workflow_attachment", problem);
                }
                else if (!seen.Add(NormalizeRelative(attachment.Name)))
                {
                    context.AddFailure("workflow_attachment", $"workflow_attachment '{attachment.Name}' is attached twice.");
                }
            }

            // "a" and "a/b" cannot both exist: one name would have to be a file and a folder at once.
            var folders = seen.SelectMany(Folders).ToHashSet(StringComparer.Ordinal);
            foreach (var name in seen.Where(folders.Contains))
            {
                context.AddFailure("workflow_attachment", $"workflow_attachment '{name}' is a file and also the folder of another attachment.");
            }
        });

        // Where the server, or the engine on its behalf, will connect: no credentials, no refused address literal.
        RuleFor(s => s.WorkflowUrl).Custom((url, context) => AddAll(context, "workflow_url", FetchUrlRules.WorkflowUrlProblems(url ?? "", fetchPolicy)));
        // Input URLs are fetched by the engine itself: their host names are looked up now, with a short time limit.
        var inputHosts = new InputHostCheck(fetchPolicy, options.Value.Fetch);
        RuleFor(s => s).CustomAsync(async (s, context, ct) => AddAll(context, "workflow_params",
            await inputHosts.ProblemsAsync(FetchUrlRules.InputUrls(s.WorkflowParams.Value, IsCwl(s)), ct)));

        // Schema-salad directives would make a CWL runner read files that none of the checks above see.
        RuleFor(s => s).Custom((s, context) =>
            AddAll(context, "workflow_params", IsCwl(s) ? InputFileRules.CwlDirectiveProblems(s.WorkflowParams.Value) : []));
    }

    private static bool IsCwl(RunSubmission s) => s.CanonicalType == Execution.Engines.Cwl.CwlLanguage.WorkflowType;

    private static void AddAll<T>(ValidationContext<T> context, string field, IEnumerable<string> problems)
    {
        foreach (var problem in problems)
        {
            context.AddFailure(field, problem);
        }
    }

    /// <summary>"a/b/c.cwl" lies in the folders "a" and "a/b".</summary>
    private static IEnumerable<string> Folders(string name)
    {
        for (var slash = name.IndexOf('/'); slash > 0; slash = name.IndexOf('/', slash + 1))
        {
            yield return name[..slash];
        }
    }

    /// <summary>The type must be one an installed engine runs, and a named engine must be installed and run it.</summary>
    private static void CheckEngine(RunSubmission s, ValidationContext<RunSubmission> context)
    {
        var type = s.CanonicalType!;
        var installedTypes = string.Join(", ", s.Available.Select(a => a.Engine.WorkflowType).Distinct().DefaultIfEmpty("none"));
        var installed = s.Available.Where(a => a.Engine.WorkflowType == type).ToList();
        var installedNames = string.Join(", ", installed.Select(a => a.Engine.Name).DefaultIfEmpty("none"));
        var registered = s.Engines.Where(e => e.WorkflowType == type).ToList();
        var namedAll = s.WorkflowEngine is null ? [] : s.Engines.Where(e => string.Equals(e.Name, s.WorkflowEngine.Trim(), StringComparison.OrdinalIgnoreCase)).ToList();
        // A remote's engine may run several types, one engine entry each: the one for the requested type answers.
        var named = namedAll.FirstOrDefault(e => e.WorkflowType == type) ?? namedAll.FirstOrDefault();
        var chosen = s.ResolveEngine();
        string? problem = null;
        if (registered.Count == 0)
        {
            problem = $"workflow_type '{s.WorkflowType}' is not supported; available types: {installedTypes}.";
        }
        else if (installed.Count == 0)
        {
            problem = $"workflow_type '{s.WorkflowType}' needs {string.Join(" or ", registered.Select(e => e.Name))}, which is not installed on this server; available types: {installedTypes}.";
        }
        else if (s.WorkflowEngine is not null && (named is null || named.WorkflowType != type))
        {
            problem = $"workflow_engine '{s.WorkflowEngine}' does not run {type}; available engines for {type}: {installedNames}.";
        }
        else if (chosen is null)
        {
            problem = $"workflow_engine '{s.WorkflowEngine}' is not installed on this server; available engines for {type}: {installedNames}.";
        }

        // Each branch above that finds no engine names a problem.
        if (problem is not null || chosen is null)
        {
            context.AddFailure("workflow_type", problem ?? "");
            return;
        }

        CheckVersions(s, context, chosen);
        if (chosen.Engine.ChecksParameters)
        {
            CheckEngineParameters(s, context, chosen.Engine);
        }
    }

    private static void CheckVersions(RunSubmission s, ValidationContext<RunSubmission> context, AvailableEngine chosen)
    {
        var engine = chosen.Engine;
        if (s.WorkflowTypeVersion is null)
        {
            context.AddFailure("workflow_type_version", $"workflow_type_version is required (e.g. \"{engine.WorkflowTypeVersions[^1]}\").");
        }
        else if (engine.NormalizeTypeVersion(s.WorkflowTypeVersion) is null)
        {
            context.AddFailure("workflow_type_version",
                $"workflow_type_version '{s.WorkflowTypeVersion}' is not supported for {engine.WorkflowType}; supported: {string.Join(", ", engine.WorkflowTypeVersions)}.");
        }

        if (s.WorkflowEngineVersion is not null && s.WorkflowEngine is null)
        {
            context.AddFailure("workflow_engine_version", "workflow_engine_version needs workflow_engine as well.");
        }
        else if (s.WorkflowEngineVersion is not null && s.WorkflowEngineVersion != chosen.Version)
        {
            context.AddFailure("workflow_engine_version",
                $"workflow_engine_version '{s.WorkflowEngineVersion}' of {engine.Name} is not available; available: {chosen.Version}.");
        }
    }

    private static void CheckEngineParameters(RunSubmission submission, ValidationContext<RunSubmission> context, IWorkflowEngine engine)
    {
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in submission.WorkflowEngineParameters.Value ?? [])
        {
            var declared = EngineParameterNames.Find(engine, name);
            var text = EngineParameterNames.ValueText(value);
            var problem = declared switch
            {
                null when EngineParameterNames.Owner(name) is { } owner && !string.Equals(owner, engine.Name, StringComparison.OrdinalIgnoreCase)
                    => $"'{name}' belongs to {owner}, but this run uses {engine.Name}",
                null => $"'{name}' is not a parameter of {engine.Name}; accepted: {string.Join(", ", engine.Parameters.Select(p => EngineParameterNames.Qualified(engine, p)).DefaultIfEmpty("none"))}",
                _ when given.TryGetValue(declared.Name, out var first) => $"'{name}' and '{first}' are the same parameter",
                _ when declared.Problem(text) is { } bad => $"'{name}' {bad}; got '{text}'",
                _ => null,
            };
            if (declared is not null)
            {
                given.TryAdd(declared.Name, name);
            }

            if (problem is not null)
            {
                context.AddFailure("workflow_engine_parameters", $"workflow_engine_parameters: {problem}.");
            }
        }
    }

    /// <summary>The wes.slurm.* tags hold values sbatch accepts; Slurm itself must be on for a run that asks for it.</summary>
    private static void CheckSlurmTags(RunSubmission submission, ValidationContext<RunSubmission> context, WesOptions options)
    {
        var tags = (submission.Tags.Value ?? []).Where(t => t.Value is JsonValue)
            .ToDictionary(t => t.Key, t => t.Value!.ToString(), StringComparer.Ordinal);
        foreach (var problem in Providers.Slurm.SlurmResources.TagProblems(tags, options.Slurm))
        {
            context.AddFailure("tags", problem);
        }

        if (tags.TryGetValue(Providers.ExecutionProviders.Tag, out var provider) && !Providers.Slurm.SlurmOptions.IsOn(options) &&
            string.Equals(provider.Trim(), Providers.Slurm.SlurmProvider.ProviderName, StringComparison.OrdinalIgnoreCase))
        {
            context.AddFailure("tags", $"tags: {Providers.ExecutionProviders.Tag} Slurm is not enabled on this server (WES_SLURM_ENABLED).");
        }
    }

    /// <summary>Each attachment the "wes.unpack" tag names must be attached and be a .zip.</summary>
    private static void CheckUnpackTag(RunSubmission submission, ValidationContext<RunSubmission> context)
    {
        var attached = submission.Attachments.Select(a => NormalizeRelative(a.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (var name in AttachmentUnpacker.Requested(submission.Tags.Value))
        {
            if (!attached.Contains(name) || !name.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
            {
                context.AddFailure("tags", $"{AttachmentUnpacker.Tag}: '{name}' must name a .zip file among the attachments.");
            }
        }
    }

    private static void CheckWorkflowUrl(RunSubmission submission, ValidationContext<RunSubmission> context)
    {
        var url = submission.WorkflowUrl!;
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && !url.StartsWith('/'))
        {
            if (uri.Scheme is not ("http" or "https"))
            {
                context.AddFailure("workflow_url", $"workflow_url scheme '{uri.Scheme}' is not supported; use http(s) or the relative path of an attachment.");
            }

            return;
        }

        if (AttachmentNameProblem(url) is { } problem)
        {
            context.AddFailure("workflow_url", problem.Replace("workflow_attachment", "workflow_url", StringComparison.Ordinal));
        }
        else if (!submission.Attachments.Any(a => NormalizeRelative(a.Name) == NormalizeRelative(url)))
        {
            context.AddFailure("workflow_url", $"workflow_url '{url}' is relative but no workflow_attachment has that name.");
        }
    }

    /// <summary>Why an attachment path could escape or confuse the run directory, or null if it is safe.</summary>
    public static string? AttachmentNameProblem(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "workflow_attachment needs a filename.";
        }

        if (Encoding.UTF8.GetByteCount(name) > MaxAttachmentNameLength)
        {
            return $"workflow_attachment name is longer than {MaxAttachmentNameLength} bytes.";
        }

        if (name.Any(c => c == '\0' || char.IsControl(c)))
        {
            return $"workflow_attachment '{Printable(name)}' contains a NUL or control character.";
        }

        if (name.Any(IsInvisibleOrInvalid) || HasLoneSurrogate(name))
        {
            return $"workflow_attachment '{Printable(name)}' contains an invisible, direction-changing or invalid character.";
        }

        if (name.Contains('\\'))
        {
            return $"workflow_attachment '{name}' contains a backslash; use '/' between folders.";
        }

        if (name.StartsWith('/') || (name.Length >= 2 && name[1] == ':'))
        {
            return $"workflow_attachment '{name}' is an absolute path; names must be relative.";
        }

        if (NormalizeRelative(name) == RunWorkspace.ParamsFileName)
        {
            return $"workflow_attachment name '{name}' is reserved for the server's params file.";
        }

        var segments = NormalizeRelative(name).Split('/');
        if (segments.Any(segment => segment == ".."))
        {
            return $"workflow_attachment '{name}' refers to a parent folder ('..').";
        }

        if (segments.Any(segment => segment.Length == 0))
        {
            return $"workflow_attachment '{name}' has an empty path segment.";
        }

        return segments.Any(segment => Encoding.UTF8.GetByteCount(segment) > MaxSegmentLength)
            ? $"workflow_attachment '{name}' has a folder or file name longer than {MaxSegmentLength} bytes."
            : null;
    }

    /// <summary>NAME_MAX of Linux file systems, in UTF-8 bytes.</summary>
    public const int MaxSegmentLength = 255;

    /// <summary>
    /// Characters that make a name look like another (bidirectional overrides, zero-width marks), or that show the
    /// name was not valid UTF-8 (U+FFFD, lone surrogates).
    /// </summary>
    private static bool IsInvisibleOrInvalid(char c) =>
        c == '\uFFFD' || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    private static bool HasLoneSurrogate(string name)
    {
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsHighSurrogate(name[i]) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(name[i]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>"./a/./b.cwl" and "a/b.cwl" name the same file.</summary>
    public static string NormalizeRelative(string name) =>
        string.Join('/', name.Split('/').Where(segment => segment != "."));

    private static bool AllScalars(JsonObject? map) =>
        map is null || map.All(pair => pair.Value is JsonValue);

    private static string Printable(string value) =>
        new(value.Select(c => char.IsControl(c) || IsInvisibleOrInvalid(c) ? '?' : c).ToArray());
}
