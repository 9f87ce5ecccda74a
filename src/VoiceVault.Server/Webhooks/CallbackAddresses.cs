using System.Net;
using System.Net.Sockets;

namespace VoiceVault.Server.Webhooks;

/// <summary>A callback the vault will not make: where it would have gone, and why not.</summary>
public sealed class CallbackRefusedException(string reason) : Exception(reason);

/// <summary>
/// Where status callbacks may go (docs/api.md §13). Any account holder chooses a callback URL, so the
/// vault must not become a way into its own network: before each connection the host's addresses
/// are resolved and checked, and the connection is made to a checked address — a host name that
/// answers differently the second time (DNS rebinding) gains nothing. Loopback, private, link-local
/// (cloud metadata included), CGNAT, unspecified, multicast, documentation and reserved ranges (the
/// special-purpose ranges of RFC 6890 that are not globally reachable) are refused unless
/// listed in <c>VoiceVault:Webhooks:AllowedNetworks</c>; IPv4 carried inside IPv6 (mapped, NAT64,
/// 6to4) is judged as the IPv4 address it carries.
/// </summary>
public sealed class CallbackAddresses
{
    public const string AllowedNetworksKey = "VoiceVault:Webhooks:AllowedNetworks";

    private static readonly (IPNetwork Network, string What)[] Blocked =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "an unspecified (\"this network\") address"),
        (IPNetwork.Parse("10.0.0.0/8"), "a private (RFC 1918) address"),
        (IPNetwork.Parse("100.64.0.0/10"), "a carrier-grade NAT (RFC 6598) address"),
        (IPNetwork.Parse("127.0.0.0/8"), "a loopback address"),
        (IPNetwork.Parse("169.254.0.0/16"), "a link-local address (where cloud metadata services live)"),
        (IPNetwork.Parse("172.16.0.0/12"), "a private (RFC 1918) address"),
        (IPNetwork.Parse("192.0.0.0/24"), "an IETF protocol assignment (RFC 6890) address"),
        (IPNetwork.Parse("192.0.2.0/24"), "a documentation (TEST-NET-1) address, not reachable on the internet"),
        (IPNetwork.Parse("192.88.99.0/24"), "a 6to4 relay anycast address (deprecated)"),
        (IPNetwork.Parse("192.168.0.0/16"), "a private (RFC 1918) address"),
        (IPNetwork.Parse("198.18.0.0/15"), "a benchmarking (RFC 2544) address"),
        (IPNetwork.Parse("198.51.100.0/24"), "a documentation (TEST-NET-2) address, not reachable on the internet"),
        (IPNetwork.Parse("203.0.113.0/24"), "a documentation (TEST-NET-3) address, not reachable on the internet"),
        (IPNetwork.Parse("224.0.0.0/4"), "a multicast address"),
        (IPNetwork.Parse("240.0.0.0/4"), "a reserved address"),
        (IPNetwork.Parse("::/128"), "the unspecified address"),
        (IPNetwork.Parse("::1/128"), "a loopback address"),
        (IPNetwork.Parse("::/96"), "an IPv4-compatible IPv6 address (deprecated)"),
        (IPNetwork.Parse("2001:db8::/32"), "a documentation address, not reachable on the internet"),
        (IPNetwork.Parse("fc00::/7"), "a unique local (private IPv6) address"),
        (IPNetwork.Parse("fe80::/10"), "a link-local address"),
        (IPNetwork.Parse("fec0::/10"), "a site-local address (deprecated)"),
        (IPNetwork.Parse("ff00::/8"), "a multicast address"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    private readonly IPNetwork[] _allowed;
    private readonly string _allowedBy;

    /// <summary>Refuses every blocked address but those in <paramref name="allowed"/>, which the setting <paramref name="allowedBy"/> lists.</summary>
    public CallbackAddresses(IEnumerable<IPNetwork> allowed, string allowedBy = AllowedNetworksKey)
    {
        _allowed = [.. allowed];
        _allowedBy = allowedBy;
    }

    /// <summary>
    /// An HTTP handler that connects only where these rules allow: never through a proxy, never
    /// after a redirect, small response headers, no draining; its connections live a minute, so an
    /// address checked at connect time is not reused for ever.
    /// </summary>
    public SocketsHttpHandler Handler() => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        ConnectCallback = ConnectAsync,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        MaxResponseHeadersLength = 16,
        MaxResponseDrainSize = 0,
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
    };

    /// <summary>The allowed networks from configuration.</summary>
    public static CallbackAddresses From(IConfiguration configuration) => new(ConfiguredNetworks.Read(configuration, AllowedNetworksKey));

    /// <summary>Why <paramref name="address"/> may not be called; null when it may.</summary>
    public string? Refusal(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var judged = Carried(address);
        if (_allowed.Any(n => n.Contains(judged) || n.Contains(address)))
        {
            return null;
        }
        foreach (var (network, what) in Blocked)
        {
            if (network.Contains(judged))
            {
                return judged.Equals(address) ? $"{address} is {what}" : $"{address} carries {judged}, which is {what}";
            }
        }
        if (judged.Equals(IPAddress.Broadcast))
        {
            return $"{address} is the broadcast address";
        }
        return null;
    }

    /// <summary>
    /// The connection for a callback: the host's addresses resolved once and checked, the first
    /// allowed one connected to. Refuses with what each address is when none may be called.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        IPAddress[] addresses;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
            }
            catch (SocketException e)
            {
                throw new HttpRequestException($"the host name {host} does not resolve ({e.SocketErrorCode})", e);
            }
        }
        var refusals = addresses.Select(a => (Address: a, Why: Refusal(a))).ToList();
        var allowed = refusals.Where(r => r.Why is null).Select(r => r.Address).ToList();
        if (allowed.Count == 0)
        {
            throw new CallbackRefusedException(refusals.Count == 0
                ? $"{host} has no address"
                : $"{host} resolves to {string.Join("; ", refusals.Select(r => r.Why))}, which the vault does not call (allow a network with {_allowedBy})");
        }
        Exception? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw new HttpRequestException($"could not connect: {last?.Message ?? "no address answered"}", last);
    }

    /// <summary>Where an IP literal in a callback URL (any spelling .NET reads, e.g. 2130706433) may not go; null for host names.</summary>
    public string? RefusalOfLiteral(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 && IPAddress.TryParse(url.Host.Trim('[', ']'), out var address)
            ? Refusal(address)
            : null;
    }

    // The IPv4 address inside an IPv6 one that carries it, else the address itself.
    private static IPAddress Carried(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address))
        {
            return new IPAddress(bytes.AsSpan(12, 4));
        }
        if (SixToFour.Contains(address))
        {
            return new IPAddress(bytes.AsSpan(2, 4));
        }
        return address;
    }
}
