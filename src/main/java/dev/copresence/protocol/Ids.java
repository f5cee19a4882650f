package dev.copresence.protocol;

import java.util.regex.Pattern;

/** The identifier rule of the contract: documents and users match {@code [A-Za-z0-9._:-]{1,128}}. */
public final class Ids {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private Ids() {
    }

    public static boolean valid(String id) {
        return id != null && ID.matcher(id).matches();
    }

    public static String requireDoc(String doc) {
        if (!valid(doc)) {
            throw ProtocolException.badRequest("doc must match [A-Za-z0-9._:-]{1,128}");
        }
        return doc;
    }

    public static String requireUser(String user) {
        if (!valid(user)) {
            throw ProtocolException.badRequest("user ids must match [A-Za-z0-9._:-]{1,128}");
        }
        return user;
    }
}
