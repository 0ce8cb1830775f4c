using System.Text;

namespace Recommend.Core.Experiments;

/// <summary>
/// Deterministic assignment: 32-bit FNV-1a of (salt, user id) to one of 10,000 buckets, and each variant owns a range of
/// buckets by weight — identical on every node, in every process, after every restart, with nothing to look up.
/// </summary>
public static class Assignment
{
    public const int Buckets = 10_000;

    public static int Bucket(string userId, string salt)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes($"{salt}:{userId}"))
        {
            hash ^= b;
            hash *= 16777619u;
        }
        return (int)(hash % Buckets);
    }

    /// <summary>The variant that owns <paramref name="userId"/>'s bucket; interleaving experiments assign no variant.</summary>
    public static ExperimentVariant VariantFor(Experiment experiment, string userId)
    {
        var bucket = Bucket(userId, experiment.Salt);
        var total = experiment.Variants.Sum(v => v.Weight);
        var upper = 0.0;
        foreach (var variant in experiment.Variants)
        {
            upper += variant.Weight / total * Buckets;
            if (bucket < Math.Round(upper)) return variant;
        }
        return experiment.Variants[^1];
    }
}
