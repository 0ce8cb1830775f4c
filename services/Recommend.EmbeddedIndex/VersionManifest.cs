using System.Text.Json;
using Recommend.Core.Vectors;

namespace Recommend.EmbeddedIndex;

/// <summary>
/// What a version directory holds. <paramref name="Sequence"/> orders versions even if the clock moves backwards.
/// <paramref name="Precision"/> is how its graph stores vectors, fixed when the version is created (null in versions
/// written before graphs existed: they get the default).
/// </summary>
internal sealed record VersionManifest(string Name, long Sequence, string ModelId, int Dimension, DateTimeOffset CreatedAt, VectorPrecision? Precision = null)
{
    public VectorPrecision GraphPrecision => Precision ?? EmbeddedIndexOptions.DefaultPrecision;

    public const string FileName = "manifest.json";

    public IndexSpec Spec => new(ModelId, Dimension);

    public IndexVersion ToIndexVersion(bool isLive) => new(Name, Spec, CreatedAt, isLive);

    public void Save(string directory) =>
        AtomicFile.WriteAllBytes(Path.Combine(directory, FileName), JsonSerializer.SerializeToUtf8Bytes(this));

    public static VersionManifest Load(string directory) =>
        JsonSerializer.Deserialize<VersionManifest>(File.ReadAllBytes(Path.Combine(directory, FileName)))
        ?? throw new InvalidDataException($"The manifest in {directory} is empty.");
}
