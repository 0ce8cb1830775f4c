namespace Recommend.Embeddings.Qwen.Tests;

internal static class VectorMath
{
    public static double Cosine(IReadOnlyList<float> a, IReadOnlyList<double> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Count; i++) { dot += a[i] * b[i]; na += a[i] * (double)a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    public static double Cosine(IReadOnlyList<float> a, IReadOnlyList<float> b) => Cosine(a, b.Select(x => (double)x).ToArray());

    public static double Norm(IReadOnlyList<float> a) => Math.Sqrt(a.Sum(x => (double)x * x));

    /// <summary>What the embedder should output for a reference state: first <paramref name="dimension"/> values, unit length.</summary>
    public static double[] TruncateAndNormalize(double[] state, int dimension)
    {
        var kept = state[..dimension];
        var norm = Math.Sqrt(kept.Sum(x => x * x));
        return kept.Select(x => x / norm).ToArray();
    }
}
