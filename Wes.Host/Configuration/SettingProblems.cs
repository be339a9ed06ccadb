namespace Wes.Configuration;

/// <summary>Collects bad settings, each named the way a user would set it, so one start-up reports all of them.</summary>
public sealed class SettingProblems
{
    private readonly List<string> _failures = [];

    public IReadOnlyList<string> Failures => _failures;

    public void Check(bool ok, string setting, string rule, object? value)
    {
        if (!ok)
        {
            _failures.Add($"{setting} {rule}; got '{value}'.");
        }
    }

    /// <summary>For values that must not be echoed (secrets) or that need their own wording.</summary>
    public void Add(string setting, string problem) => _failures.Add($"{setting} {problem}.");
}
