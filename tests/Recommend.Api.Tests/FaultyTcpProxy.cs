using System.Net;
using System.Net.Sockets;

namespace Recommend.Api.Tests;

/// <summary>
/// A loopback TCP forwarder that can be cut and restored, to make a real backend unreachable on demand:
/// while cut, connections are refused and open ones are reset; while frozen, nothing gets through and nothing fails.
/// </summary>
public sealed class FaultyTcpProxy : IAsyncDisposable
{
    private readonly IPEndPoint target;
    private readonly List<TcpClient> open = [];
    private TcpListener? listener;
    private CancellationTokenSource? accepting;

    public FaultyTcpProxy(IPEndPoint target, bool startCut = false)
    {
        this.target = target;
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        if (!startCut) Restore();
    }

    public int Port { get; }

    public void Restore()
    {
        if (listener is not null) return;
        listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        accepting = new CancellationTokenSource();
        _ = AcceptAsync(listener, accepting.Token);
    }

    public void Cut()
    {
        accepting?.Cancel();
        listener?.Stop();
        listener = null;
        lock (open)
        {
            foreach (var client in open) client.Client.Close(0);
            open.Clear();
        }
    }

    private async Task AcceptAsync(TcpListener server, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient inbound;
            try { inbound = await server.AcceptTcpClientAsync(ct); }
            catch (Exception) { return; }
            var outbound = new TcpClient();
            try { await outbound.ConnectAsync(target, ct); }
            catch (Exception) { inbound.Dispose(); outbound.Dispose(); continue; }
            lock (open) { open.Add(inbound); open.Add(outbound); }
            _ = PumpAsync(inbound, outbound);
            _ = PumpAsync(outbound, inbound);
        }
    }

    /// <summary>Black-holes the backend, as a SIGSTOPped process does: connections stay open (and new ones are
    /// accepted) but no byte moves either way until <see cref="Thaw"/>.</summary>
    public void Freeze() => frozen = true;

    public void Thaw() => frozen = false;

    private volatile bool frozen;

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            var source = from.GetStream();
            var target = to.GetStream();
            while (true)
            {
                var read = await source.ReadAsync(buffer);
                if (read == 0) break;
                while (frozen) await Task.Delay(20);
                await target.WriteAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception) { /* the other side was cut */ }
        finally { from.Client.Close(0); to.Client.Close(0); }
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        return ValueTask.CompletedTask;
    }
}
