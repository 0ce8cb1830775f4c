using Recommend.Core.History;

namespace Recommend.Core.Ranking;

/// <param name="Weight">Intent × recency × repeats, relative to the heaviest anchor: how much the product says about the user now.</param>
/// <param name="Presence">
/// Intent × recency alone, relative to the heaviest anchor: the learned model's input. The model was fitted on whether a
/// customer bought a product, not how often, and weighting its input by repeats costs it accuracy (docs/evaluation.md).
/// </param>
/// <param name="Type">The strongest interaction with the product, or null for a context item of the request.</param>
internal sealed record Anchor(string ProductId, double Weight, double Presence, EventType? Type);

/// <summary>
/// The products a request is anchored on — the user's recent interactions and the request's context items — each
/// weighted by intent and recency. Their weighted mean embedding is the user's profile vector.
/// </summary>
internal sealed class Anchors
{
    private readonly Dictionary<string, Anchor> byId;
    private Dictionary<string, double>? weights;

    private Anchors(Dictionary<string, Anchor> byId) => this.byId = byId;

    public int Count => byId.Count;

    public IReadOnlyCollection<string> Keys => byId.Keys;

    public Anchor? this[string productId] => byId.GetValueOrDefault(productId);

    public static Anchors Context(IEnumerable<string> productIds) =>
        new(productIds.Distinct(StringComparer.Ordinal).ToDictionary(id => id, id => new Anchor(id, 1, 1, null), StringComparer.Ordinal));

    /// <summary>
    /// Recency is measured back from the user's own latest event, not the wall clock, so imported history
    /// from years ago still forms a profile and weights stay within (0, 1].
    /// </summary>
    public static Anchors From(IReadOnlyList<Interaction> interactions, IReadOnlyList<string> contextIds, RankingProfile profile)
    {
        var byId = new Dictionary<string, Anchor>(StringComparer.Ordinal);
        if (interactions.Count > 0)
        {
            var latest = interactions.Max(i => i.OccurredAt);
            foreach (var interaction in interactions)
            {
                var age = latest - interaction.OccurredAt;
                var presence = IntentWeight(interaction.Type) * Math.Pow(2, -age / profile.ProfileHalfLife);
                var weight = presence * (1 + Math.Log(Math.Max(1, interaction.Count)));
                if (byId.TryGetValue(interaction.ProductId, out var existing))
                {
                    var strongest = IntentWeight(existing.Type!.Value) >= IntentWeight(interaction.Type) ? existing.Type : interaction.Type;
                    byId[interaction.ProductId] = new Anchor(interaction.ProductId, existing.Weight + weight, Math.Max(existing.Presence, presence), strongest);
                }
                else
                {
                    byId[interaction.ProductId] = new Anchor(interaction.ProductId, weight, presence, interaction.Type);
                }
            }
        }

        // The page or cart in front of the user states intent now: it outweighs any single past interaction.
        var contextWeight = profile.ContextWeight * (byId.Count == 0 ? 1 : byId.Values.Max(a => a.Weight));
        var contextPresence = profile.ContextWeight * (byId.Count == 0 ? 1 : byId.Values.Max(a => a.Presence));
        foreach (var id in contextIds) byId[id] = new Anchor(id, contextWeight, contextPresence, null);

        var max = byId.Count == 0 ? 1 : byId.Values.Max(a => a.Weight);
        var maxPresence = byId.Count == 0 ? 1 : byId.Values.Max(a => a.Presence);
        return new(byId.ToDictionary(p => p.Key, p => p.Value with { Weight = p.Value.Weight / max, Presence = p.Value.Presence / maxPresence }, StringComparer.Ordinal));
    }

    public static double IntentWeight(EventType type) => type switch
    {
        EventType.Purchase => 1.0,
        EventType.AddToCart => 0.7,
        EventType.Click => 0.4,
        _ => 0.3,
    };

    /// <summary>The heaviest anchors, whose baskets are worth looking into.</summary>
    public IReadOnlyCollection<string> CoPurchaseSources(int count) =>
        byId.Values.OrderByDescending(a => a.Weight).ThenBy(a => a.ProductId, StringComparer.Ordinal)
            .Take(count).Select(a => a.ProductId).ToList();

    /// <summary>Each anchor's weight: the profile vector is the anchors' vectors' mean by these (<see cref="Vectors.IVectorIndex.WeightedMeanAsync"/>).</summary>
    public IReadOnlyDictionary<string, double> Weights => weights ??= byId.ToDictionary(p => p.Key, p => p.Value.Weight, StringComparer.Ordinal);
}
