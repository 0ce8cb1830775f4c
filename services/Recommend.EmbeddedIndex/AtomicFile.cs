namespace Recommend.EmbeddedIndex;

/// <summary>Replaces small files so that a crash leaves either the old or the new content, never a mix.</summary>
internal static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(content);
            // The bytes must be on disk before the rename publishes them, or a crash could expose an empty file.
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
