namespace Recommend.Sqlite.Tests;

/// <summary>A database path in a fresh temporary directory, deleted with everything in it (WAL and shm files too).</summary>
internal sealed class TempDatabase : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("recommend-sqlite-").FullName;

    public string Path => System.IO.Path.Combine(_directory, "recommend.db");

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
