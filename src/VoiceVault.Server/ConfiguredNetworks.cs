using VoiceVault.Server.Core;
using System.Net;
using System.Net.Sockets;

namespace VoiceVault.Server;

/// <summary>
/// Lists of networks in configuration (the callback networks allowed, the proxies trusted), read
/// one way: a list, or one value separated by commas, spaces or semicolons.
/// </summary>
public static class ConfiguredNetworks
{
    /// <summary>
    /// Networks from a configuration key: a list, or one comma- or space-separated value; CIDRs, or
    /// single addresses (a host's /32 or /128).
    /// </summary>
    public static List<IPNetwork> Read(IConfiguration configuration, string key)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(key);
        var values = section.Value is { } single ? [single] : section.GetChildren().Select(c => c.Value ?? "").ToArray();
        var networks = new List<IPNetwork>();
        foreach (var text in values.SelectMany(v => v.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (IPNetwork.TryParse(text, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(text, out var address))
            {
                networks.Add(new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                throw new StartupException($"{key}: '{text}' is neither an address nor a network in CIDR notation",
                    $"write addresses or networks separated by commas, e.g. {key}=10.1.0.0/16,fd00::/8,192.0.2.7");
            }
        }
        return networks;
    }
}
