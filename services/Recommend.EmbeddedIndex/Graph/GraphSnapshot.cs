using System.IO.Hashing;
using System.Text.Json;

namespace Recommend.EmbeddedIndex.Graph;

/// <summary>Where a saved graph stands in its version's record log: the records it reflects end at <see cref="Offset"/>.</summary>
internal readonly record struct LogPosition(long Offset, long Records);

/// <summary>
/// A saved graph beside the record log: <c>graph.usearch</c>, <c>graph.keys</c> and <c>graph.json</c>, which is
/// written last and names the log position both files reflect plus their checksums. Without a valid
/// <c>graph.json</c> the files are ignored, so a crash mid-save costs a rebuild, never a wrong answer.
/// </summary>
internal sealed record GraphSnapshot(
    VectorPrecision Precision, int Connectivity, int Dimension, long LogOffset, long LogRecords, long Nodes, ulong GraphChecksum, ulong KeysChecksum)
{
    public const string GraphFileName = "graph.usearch";
    public const string KeysFileName = "graph.keys";
    public const string MetaFileName = "graph.json";

    public LogPosition Position => new(LogOffset, LogRecords);

    public bool Matches(GraphSettings settings, int dimension) =>
        Precision == settings.Precision && Connectivity == settings.Connectivity && Dimension == dimension;

    /// <summary>The snapshot's description, or null when there is none (or it is unreadable: then it is rebuilt).</summary>
    public static GraphSnapshot? TryReadMeta(string directory)
    {
        try
        {
            var path = Path.Combine(directory, MetaFileName);
            return File.Exists(path) ? JsonSerializer.Deserialize<GraphSnapshot>(File.ReadAllBytes(path)) : null;
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return null;
        }
    }

    /// <summary>Removes the description first, so a crash during the rest never leaves a snapshot that looks valid.</summary>
    public static void Delete(string directory)
    {
        File.Delete(Path.Combine(directory, MetaFileName));
        File.Delete(Path.Combine(directory, GraphFileName));
        File.Delete(Path.Combine(directory, KeysFileName));
    }

    public static void Save(string directory, HnswGraph graph, GraphKeys keys, GraphSettings settings, LogPosition position)
    {
        File.Delete(Path.Combine(directory, MetaFileName));
        var graphPath = Path.Combine(directory, GraphFileName);
        graph.Save(graphPath);
        var keysPath = Path.Combine(directory, KeysFileName);
        using (var stream = new FileStream(keysPath, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
                keys.Save(writer);
            stream.Flush(flushToDisk: true);
        }
        var meta = new GraphSnapshot(
            settings.Precision, settings.Connectivity, graph.Dimension, position.Offset, position.Records, graph.Count,
            Checksum(graphPath), Checksum(keysPath));
        AtomicFile.WriteAllBytes(Path.Combine(directory, MetaFileName), JsonSerializer.SerializeToUtf8Bytes(meta));
    }

    /// <summary>Loads both files after checking their checksums; throws when either is missing, damaged or inconsistent.</summary>
    public (HnswGraph Graph, GraphKeys Keys) Load(string directory, GraphSettings settings, Func<string, string> shareId)
    {
        var graphPath = Path.Combine(directory, GraphFileName);
        var keysPath = Path.Combine(directory, KeysFileName);
        if (Checksum(graphPath) != GraphChecksum || Checksum(keysPath) != KeysChecksum)
            throw new GraphException("the saved graph does not match its checksum");
        GraphKeys keys;
        using (var reader = new BinaryReader(File.OpenRead(keysPath)))
            keys = GraphKeys.Load(reader, shareId);
        var graph = HnswGraph.Load(graphPath, settings, Dimension);
        if (graph.Count != Nodes || keys.Count != Nodes)
        {
            graph.Dispose();
            throw new GraphException($"the saved graph holds {graph.Count} nodes and {keys.Count} keys; its description says {Nodes}");
        }
        return (graph, keys);
    }

    private static ulong Checksum(string path)
    {
        var hash = new XxHash3();
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20))
            hash.Append(stream);
        return hash.GetCurrentHashAsUInt64();
    }
}
