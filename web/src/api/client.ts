// The urql client: same-origin /graphql on the router, the session's bearer token on every
// request, and UNAUTHENTICATED ending the session (the app then shows the sign-in page).
import { Client, cacheExchange, fetchExchange, mapExchange } from "@urql/core";
import { currentToken, endSession, session } from "../session";
import { navigate } from "../route";

export const client = new Client({
  url: "/graphql",
  preferGetMethod: false,
  requestPolicy: "cache-and-network",
  fetchOptions: () => {
    const token = currentToken();
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    return { headers };
  },
  exchanges: [
    mapExchange({
      onError(error) {
        const expired = error.graphQLErrors.some((e) => e.extensions?.code === "UNAUTHENTICATED");
        if (expired && session.get()) {
          endSession();
          navigate("/signin", { expired: "1" });
        }
      },
    }),
    cacheExchange,
    fetchExchange,
  ],
});
