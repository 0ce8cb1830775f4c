using System.Security.Cryptography;
using Recommend.Indexing.Sources;

namespace Recommend.Import;

/// <summary>How an import file is opened: gzip is recognised by its magic bytes, the format by the name under any .gz.</summary>
public static class ImportFile
{
    public static bool IsCsv(string path)
    {
        try
        {
            return ProductSource.IsCsvPath(path);
        }
        catch (FormatException e)
        {
            throw new ImportException($"{path}: {e.Message.Replace("a file source", "an import file")}");
        }
    }

    /// <summary>The file's text, decompressed when it is gzip whatever its name.</summary>
    public static StreamReader OpenText(string path) =>
        File.Exists(path) ? SourceText.Open(path) : throw new ImportException($"{path}: no such file");

    /// <summary>Identifies the file's content cheaply (size and a hash of its first and last MiB), so a checkpoint is never applied to another file.</summary>
    public static async Task<long> CountLinesAsync(string path, CancellationToken ct)
    {
        using var reader = OpenText(path);
        long lines = 0;
        while (await reader.ReadLineAsync(ct) is not null) lines++;
        return lines;
    }

    public static string Fingerprint(string path)
    {
        using var file = File.OpenRead(path);
        const int Sample = 1 << 20;
        var buffer = new byte[Math.Min(file.Length, 2L * Sample)];
        var head = file.Read(buffer, 0, (int)Math.Min(Sample, buffer.Length));
        if (file.Length > Sample)
        {
            file.Seek(-Math.Min(Sample, file.Length - head), SeekOrigin.End);
            file.ReadExactly(buffer, head, buffer.Length - head);
        }
        return $"{file.Length}:{Convert.ToHexString(SHA256.HashData(buffer))[..32]}";
    }
}

/// <summary>An import file that cannot be read at all; the message names the file and what is wrong.</summary>
public sealed class ImportException(string message) : Exception(message);
