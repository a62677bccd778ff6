import { render } from "preact";
import { Provider } from "@urql/preact";
import { client } from "./api/client";
import { App } from "./app";
import { lang } from "./i18n";
import "./styles.css";

document.documentElement.lang = lang.get();
render(
  <Provider value={client}>
    <App />
  </Provider>,
  document.getElementById("app")!,
);
