using System.Net.Sockets;
using Npgsql;
using Recommend.Core.Errors;

namespace Recommend.Postgres;

/// <summary>
/// Which failures of the database are transient — the server unreachable, a connection dropped, a timeout, a transient
/// SQL state (deadlock, serialization failure, shutdown, too many connections) — and how they are reported across the
/// adapter's boundary: as <see cref="DependencyUnavailableException"/>, whose message names no host, port or raw
/// backend text (the inner exception keeps them for the log).
/// </summary>
internal static class PostgresFaults
{
    public const string Dependency = "store";

    /// <summary>
    /// True for a transient backend fault. A cancellation by the caller's own <paramref name="ct"/> is never one: the
    /// caller asked to stop and sees its <see cref="OperationCanceledException"/> unchanged. (One the caller did not
    /// ask for is the driver giving up on its own, i.e. a timeout.)
    /// </summary>
    public static bool IsTransient(Exception e, CancellationToken ct) => e switch
    {
        OperationCanceledException => !ct.IsCancellationRequested,
        NpgsqlException { IsTransient: true } => true,
        NpgsqlException { InnerException: SocketException or IOException or TimeoutException } => true,
        TimeoutException => true,
        _ => false,
    };

    public static DependencyUnavailableException Unavailable(Exception e) =>
        new(Dependency, "the store is unavailable; retry later", e);

    public static DependencyUnavailableException NotReady() =>
        new(Dependency, "the store is not ready yet (connecting and migrating)");
}
