using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Recommend.Core.Vectors;
using Recommend.EmbeddedIndex.Graph;

namespace Recommend.EmbeddedIndex;

/// <summary>
/// Append-only log of one version's writes. Records are framed as [body length: int32][CRC-32 of body][body], so a
/// record torn by a crash mid-append fails its length or checksum check on replay and is dropped, while every record
/// before it (all acknowledged, since each batch is fsynced before the write returns) survives.
/// </summary>
internal sealed class RecordLog : IDisposable
{
    public const string FileName = "records.log";
    private const int FrameHeaderSize = 8;
    private const byte UpsertKind = 1;
    private const byte DeleteKind = 2;
    private static ReadOnlySpan<byte> FileHeader => "RVLOG001"u8;

    private readonly string _path;
    private readonly MemoryStream _batch = new();
    private readonly MemoryStream _body = new();
    private readonly BinaryWriter _bodyWriter;
    private FileStream _stream;

    private RecordLog(string path, FileStream stream, long recordCount)
    {
        _path = path;
        _stream = stream;
        _bodyWriter = new BinaryWriter(_body);
        RecordCount = recordCount;
    }

    /// <summary>Records in the file, live or superseded; compared with the live row count to decide on compaction.</summary>
    public long RecordCount { get; private set; }

    public static RecordLog Create(string path)
    {
        var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        stream.Write(FileHeader);
        stream.Flush(flushToDisk: true);
        return new RecordLog(path, stream, recordCount: 0);
    }

    /// <summary>Where the log ends now: what a graph saved at this moment reflects.</summary>
    public LogPosition Position => new(_stream.Length, RecordCount);

    /// <summary>
    /// Replays every intact record in order, each with the log position just after it, cuts off a torn tail, and
    /// leaves the log ready for appends.
    /// </summary>
    public static RecordLog Open(string path, int dimension, Action<VectorRecord, LogPosition> upsert, Action<string, LogPosition> delete)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            Span<byte> header = stackalloc byte[FileHeader.Length];
            if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) != header.Length
                || !header.SequenceEqual(FileHeader))
                throw new InvalidDataException($"{path} is not an embedded index record log.");

            var recordCount = 0L;
            var intactLength = stream.Position;
            var frame = new byte[FrameHeaderSize];
            var body = Array.Empty<byte>();
            while (TryReadRecord(stream, frame, ref body, out var bodyLength))
            {
                recordCount++;
                intactLength = stream.Position;
                Replay(body, bodyLength, dimension, new LogPosition(intactLength, recordCount), upsert, delete);
            }

            if (intactLength < stream.Length)
            {
                // Appends must follow the last intact record, or the next replay would stop at the torn one before them.
                stream.SetLength(intactLength);
                stream.Flush(flushToDisk: true);
            }
            stream.Seek(0, SeekOrigin.End);
            return new RecordLog(path, stream, recordCount);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Appends the batch and returns once it is on disk.</summary>
    public void AppendUpserts(IReadOnlyList<VectorRecord> records)
    {
        foreach (var record in records)
            AddUpsertFrame(record);
        CommitBatch(records.Count);
    }

    /// <summary>Appends the batch and returns once it is on disk.</summary>
    public void AppendDeletes(IReadOnlyList<string> productIds)
    {
        foreach (var productId in productIds)
        {
            StartBody(DeleteKind);
            _bodyWriter.Write(productId);
            FinishFrame();
        }
        CommitBatch(productIds.Count);
    }

    /// <summary>Replaces the log with one upsert per live record. The old log stays whole until the atomic rename.</summary>
    public void Rewrite(IReadOnlyList<VectorRecord> liveRecords)
    {
        foreach (var record in liveRecords)
            AddUpsertFrame(record);
        var temporary = _path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(FileHeader);
            WriteBatchDurably(stream);
        }

        _stream.Dispose();
        try
        {
            File.Move(temporary, _path, overwrite: true);
            RecordCount = liveRecords.Count;
        }
        finally
        {
            _stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read);
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _bodyWriter.Dispose();
        _batch.Dispose();
    }

    private static bool TryReadRecord(FileStream stream, byte[] frame, ref byte[] body, out int bodyLength)
    {
        bodyLength = 0;
        if (stream.ReadAtLeast(frame, FrameHeaderSize, throwOnEndOfStream: false) < FrameHeaderSize)
            return false;
        bodyLength = BinaryPrimitives.ReadInt32LittleEndian(frame);
        var checksum = BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(4));
        if (bodyLength <= 0 || bodyLength > stream.Length - stream.Position)
            return false;
        if (body.Length < bodyLength)
            body = new byte[bodyLength];
        stream.ReadExactly(body, 0, bodyLength);
        return Crc32.HashToUInt32(body.AsSpan(0, bodyLength)) == checksum;
    }

    private static void Replay(
        byte[] body, int bodyLength, int dimension, LogPosition after, Action<VectorRecord, LogPosition> upsert, Action<string, LogPosition> delete)
    {
        var stream = new MemoryStream(body, 0, bodyLength, writable: false);
        using var reader = new BinaryReader(stream);
        switch (reader.ReadByte())
        {
            case UpsertKind:
                var productId = reader.ReadString();
                var category = reader.ReadString();
                var price = reader.ReadDouble();
                var inStock = reader.ReadBoolean();
                var title = reader.ReadString();
                var vector = new float[dimension];
                stream.ReadExactly(MemoryMarshal.AsBytes(vector.AsSpan()));
                upsert(new VectorRecord(productId, vector, category, price, inStock, title), after);
                break;
            case DeleteKind:
                delete(reader.ReadString(), after);
                break;
            case var kind:
                throw new InvalidDataException($"Unknown record kind {kind} in an intact record: the log was written by a newer version.");
        }
    }

    private void AddUpsertFrame(VectorRecord record)
    {
        StartBody(UpsertKind);
        _bodyWriter.Write(record.ProductId);
        _bodyWriter.Write(record.Category);
        _bodyWriter.Write(record.Price);
        _bodyWriter.Write(record.InStock);
        _bodyWriter.Write(record.Title);
        // Raw floats in machine order: every platform .NET runs this on is little-endian.
        _bodyWriter.Write(MemoryMarshal.AsBytes(record.Vector.AsSpan()));
        FinishFrame();
    }

    private void StartBody(byte kind)
    {
        _body.SetLength(0);
        _bodyWriter.Write(kind);
    }

    private void FinishFrame()
    {
        _bodyWriter.Flush();
        var body = _body.GetBuffer().AsSpan(0, (int)_body.Length);
        Span<byte> frame = stackalloc byte[FrameHeaderSize];
        BinaryPrimitives.WriteInt32LittleEndian(frame, body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], Crc32.HashToUInt32(body));
        _batch.Write(frame);
        _batch.Write(body);
    }

    private void CommitBatch(int records)
    {
        var committedLength = _stream.Position;
        try
        {
            WriteBatchDurably(_stream);
        }
        catch
        {
            // A failed append may have left part of a frame; cut it so later appends are not hidden behind it on replay.
            _stream.SetLength(committedLength);
            throw;
        }
        RecordCount += records;
    }

    private void WriteBatchDurably(FileStream stream)
    {
        try
        {
            stream.Write(_batch.GetBuffer(), 0, (int)_batch.Length);
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            _batch.SetLength(0);
        }
    }
}
