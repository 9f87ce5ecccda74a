namespace VoiceVault.Server.Api;

/// <summary>Form parameters several resources share, validated the same way everywhere.</summary>
public static class FormFields
{
    /// <summary>FriendlyName: at most 64 characters (Twilio's limit); null when absent.</summary>
    public static string? FriendlyName(IFormCollection form)
    {
        if (!form.TryGetValue("FriendlyName", out var value))
        {
            return null;
        }
        var name = value.ToString();
        return name.Length <= 64 ? name : throw ApiException.BadParameter("FriendlyName must be at most 64 characters", 20001);
    }
}
