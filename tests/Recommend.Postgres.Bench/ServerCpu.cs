using Npgsql;

namespace Recommend.Postgres.Bench;

/// <summary>
/// CPU time of a local PostgreSQL server as a whole: the postmaster, every backend and background process (WAL writer,
/// checkpointer, autovacuum), and the children that already exited, which the postmaster reaped into its own
/// children's times. Unlike wall time it stays meaningful on a machine shared with other work.
/// </summary>
internal sealed class ServerCpu
{
    private const double ClockTicksPerSecond = 100; // USER_HZ on Linux

    private readonly int _postmaster;

    private ServerCpu(int postmaster) => _postmaster = postmaster;

    /// <summary>The server behind <paramref name="connectionString"/>, or null when it does not run on this machine.</summary>
    public static async Task<ServerCpu?> FindAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select pg_backend_pid()", connection);
        var backend = (int)(await command.ExecuteScalarAsync())!;
        var stat = ReadStat(backend);
        return stat is null ? null : new ServerCpu(stat.Value.ParentId);
    }

    public TimeSpan Read()
    {
        var ticks = 0L;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid)) continue;
            if (ReadStat(pid) is not { } stat) continue;
            if (pid == _postmaster) ticks += stat.Own + stat.ReapedChildren;
            else if (stat.ParentId == _postmaster) ticks += stat.Own;
        }
        return TimeSpan.FromSeconds(ticks / ClockTicksPerSecond);
    }

    private static (int ParentId, long Own, long ReapedChildren)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null; // not here, or exited meanwhile
        }
        // Fields after the parenthesised command name, from the 3rd (state): ppid is the 4th; utime, stime, cutime
        // and cstime the 14th to 17th.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[1]), long.Parse(fields[11]) + long.Parse(fields[12]), long.Parse(fields[13]) + long.Parse(fields[14]));
    }
}
