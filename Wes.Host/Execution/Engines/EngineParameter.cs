using System.Globalization;
using System.Text.RegularExpressions;

namespace Wes.Execution.Engines;

/// <summary>
/// A parameter an engine accepts through workflow_engine_parameters, published in service-info. The value is checked
/// here before anything is stored, because it becomes an entry of the engine's argument list.
/// </summary>
/// <param name="DefaultValue">What the engine does without the parameter; null when that depends on the machine.</param>
public sealed record EngineParameter(string Name, string Type, string? DefaultValue, string Description)
{
    public IReadOnlyList<string>? Choices { get; init; }
    public long? Min { get; init; }
    public long? Max { get; init; }

    /// <summary>For free text: the whole value must match (and so can never start with a dash and pass as an option).</summary>
    public Regex? Pattern { get; init; }

    /// <summary>What a person is told when the pattern refuses a value.</summary>
    public string? PatternHint { get; init; }

    public static EngineParameter Boolean(string name, bool defaultValue, string description) =>
        new(name, "boolean", defaultValue ? "true" : "false", description);

    public static EngineParameter Integer(string name, long? defaultValue, long min, long max, string description) =>
        new(name, "integer", defaultValue?.ToString(CultureInfo.InvariantCulture), description) { Min = min, Max = max };

    public static EngineParameter Choice(string name, string defaultValue, IReadOnlyList<string> choices, string description) =>
        new(name, "string", defaultValue, description) { Choices = choices };

    public static EngineParameter Text(string name, string? defaultValue, Regex pattern, string hint, string description) =>
        new(name, "string", defaultValue, description) { Pattern = pattern, PatternHint = hint };

    /// <summary>
    /// The match must span the value: a pattern ending in $ (which also matches before a final newline) cannot let
    /// "value\n" through into an argument.
    /// </summary>
    private static bool MatchesWhole(Regex pattern, string value) =>
        pattern.Match(value) is { Success: true } match && match.Index == 0 && match.Length == value.Length;

    /// <summary>Why <paramref name="value"/> is not acceptable, or null if it is.</summary>
    public string? Problem(string value)
    {
        if (Type == "boolean")
        {
            return value is "true" or "false" ? null : "must be true or false";
        }

        if (Type == "integer")
        {
            if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                return "must be a whole number";
            }

            return number < Min || number > Max ? $"must be between {Min} and {Max}" : null;
        }

        if (Choices is { } choices && !choices.Contains(value, StringComparer.Ordinal))
        {
            return $"must be one of {string.Join(", ", choices)}";
        }

        return Pattern is { } pattern && !MatchesWhole(pattern, value) ? PatternHint ?? "has characters that are not allowed" : null;
    }
}
