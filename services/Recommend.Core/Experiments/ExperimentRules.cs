using System.Text.RegularExpressions;
using Recommend.Core.Errors;

namespace Recommend.Core.Experiments;

/// <summary>What makes an experiment well formed; a broken rule is an <see cref="InvalidRequestException"/> naming the field.</summary>
public static partial class ExperimentRules
{
    public const int MaxNameLength = 200;
    public const int MaxDescriptionLength = 4_000;
    public const int MaxPlacements = 50;
    public const int MaxVariants = 10;
    private const string Field = "experiment";

    /// <summary>Ids, variant names and placements: short and plain, since they travel in recommendation ids and metric labels.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")]
    public static partial Regex Token();

    public static void Validate(Experiment experiment)
    {
        if (experiment.Id.Length > 0 && !Token().IsMatch(experiment.Id))
            throw Invalid("experiment_id", "must be 1-40 letters, digits, '.', '_' or '-', starting with a letter or digit");
        if (string.IsNullOrWhiteSpace(experiment.Name)) throw Invalid("name", "must not be empty");
        if (experiment.Name.Length > MaxNameLength) throw Invalid("name", $"must be at most {MaxNameLength} characters");
        if (experiment.Description.Length > MaxDescriptionLength) throw Invalid("description", $"must be at most {MaxDescriptionLength} characters");
        if (experiment.Placements.Count is 0 or > MaxPlacements) throw Invalid("placements", $"must name 1 to {MaxPlacements} placements");
        for (var i = 0; i < experiment.Placements.Count; i++)
        {
            if (!Token().IsMatch(experiment.Placements[i])) throw Invalid($"placements[{i}]", "must be 1-40 letters, digits, '.', '_' or '-'");
        }
        if (experiment.Placements.Distinct(StringComparer.Ordinal).Count() != experiment.Placements.Count) throw Invalid("placements", "must not repeat a placement");
        if (experiment.AttributionWindow <= TimeSpan.Zero || experiment.AttributionWindow > TimeSpan.FromDays(30))
            throw Invalid("attribution_window", "must be positive and at most 30 days");

        var variants = experiment.Variants;
        if (experiment.Mode == ExperimentMode.Interleaving && variants.Count != 2) throw Invalid("variants", "interleaving needs exactly two variants");
        if (variants.Count is < 2 or > MaxVariants) throw Invalid("variants", $"must hold 2 to {MaxVariants} variants");
        if (variants.Count(v => v.Control) != 1) throw Invalid("variants", "exactly one variant must be the control");
        for (var i = 0; i < variants.Count; i++)
        {
            var variant = variants[i];
            if (!Token().IsMatch(variant.Name)) throw Invalid($"variants[{i}].name", "must be 1-40 letters, digits, '.', '_' or '-'");
            if (variant.Name == ExperimentRouter.InterleavedVariant) throw Invalid($"variants[{i}].name", $"'{ExperimentRouter.InterleavedVariant}' is reserved");
            if (experiment.Mode == ExperimentMode.AB && !(double.IsFinite(variant.Weight) && variant.Weight > 0))
                throw Invalid($"variants[{i}].weight", "must be a finite number > 0");
            if (variant.Profile.Validate() is { } problem) throw Invalid($"variants[{i}].profile.{problem.Field}", problem.Message);
        }
        if (variants.Select(v => v.Name).Distinct(StringComparer.Ordinal).Count() != variants.Count) throw Invalid("variants", "variant names must be unique");
    }

    private static InvalidRequestException Invalid(string field, string message) => new($"{Field}.{field}", message);
}
