using System.Text.Json;

namespace Recommend.Import;

/// <summary>
/// What an import has had acknowledged by the server: the position (line, or derived-product ordinal) up to which
/// every row is committed or counted, and the counts so far. Saved after each acknowledgement by atomic replace, so a
/// killed import resumes after its last acknowledged batch; event ids make any row sent twice a counted duplicate.
/// </summary>
public sealed class ImportCheckpoint
{
    public const int KeptRejections = 20;

    public string Kind { get; set; } = "";
    public string Fingerprint { get; set; } = "";
    public long Position { get; set; }
    public long Accepted { get; set; }
    public long Duplicates { get; set; }
    public Dictionary<string, long> Skipped { get; set; } = [];
    public long Rejected { get; set; }
    /// <summary>The first rejected rows, as "line N: reason".</summary>
    public List<string> Rejections { get; set; } = [];

    /// <summary>The checkpoint for this file and kind, or a fresh one when there is none or it belongs to other content.</summary>
    public static ImportCheckpoint Load(string checkpointPath, string kind, string fingerprint)
    {
        if (File.Exists(checkpointPath))
        {
            try
            {
                if (JsonSerializer.Deserialize<ImportCheckpoint>(File.ReadAllBytes(checkpointPath)) is { } saved
                    && saved.Kind == kind && saved.Fingerprint == fingerprint)
                    return saved;
            }
            catch (JsonException)
            {
                // A damaged checkpoint only costs re-sending: event ids keep the store exact.
            }
        }
        return new ImportCheckpoint { Kind = kind, Fingerprint = fingerprint };
    }

    public void Save(string checkpointPath)
    {
        var temporary = checkpointPath + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, this);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, checkpointPath, overwrite: true);
    }

    public void Skip(string reason, long count = 1) => Skipped[reason] = Skipped.GetValueOrDefault(reason) + count;

    public void Reject(long line, string problem)
    {
        Rejected++;
        if (Rejections.Count < KeptRejections) Rejections.Add($"line {line}: {problem}");
    }
}
