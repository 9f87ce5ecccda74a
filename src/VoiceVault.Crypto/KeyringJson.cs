using System.Text.Json.Serialization;

namespace VoiceVault.Crypto;

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(List<KeyringEntry>))]
internal sealed partial class KeyringJson : JsonSerializerContext;
