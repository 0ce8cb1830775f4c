using System.IO.Compression;

namespace Recommend.Indexing.Sources;

/// <summary>Opens a source file's text, decompressing it when it is gzip (recognised by its magic bytes, whatever its name).</summary>
public static class SourceText
{
    public static StreamReader Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        Span<byte> magic = stackalloc byte[2];
        var read = file.Read(magic);
        file.Position = 0;
        Stream stream = read == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(file, CompressionMode.Decompress) : file;
        return new StreamReader(stream, detectEncodingFromByteOrderMarks: true);
    }
}
