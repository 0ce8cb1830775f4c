namespace Recommend.Embeddings.Qwen;

/// <summary>Groups texts of similar token length so that padding, which costs as much compute as real tokens, stays bounded.</summary>
internal static class LengthBatches
{
    /// <summary>
    /// Indices sorted by length, cut into batches of at most <paramref name="maxBatchSize"/> whose padded size
    /// (rows × longest) stays within <paramref name="maxPaddingRatio"/> × their real token count.
    /// </summary>
    public static List<int[]> Plan(IReadOnlyList<int> lengths, int maxBatchSize, double maxPaddingRatio)
    {
        var batches = new List<int[]>();
        var current = new List<int>();
        long realTokens = 0;
        foreach (var index in Enumerable.Range(0, lengths.Count).OrderBy(i => lengths[i]))
        {
            var length = lengths[index];
            var paddedIfAdded = (long)(current.Count + 1) * length; // sorted ascending: the new text is the longest
            if (current.Count == maxBatchSize || (current.Count > 0 && paddedIfAdded > maxPaddingRatio * (realTokens + length)))
            {
                batches.Add(current.ToArray());
                current.Clear();
                realTokens = 0;
            }
            current.Add(index);
            realTokens += length;
        }
        if (current.Count > 0) batches.Add(current.ToArray());
        return batches;
    }
}
