import type { Block, Inline } from "./chat-markup.ts";
import { h, link } from "./dom.ts";

const TAGS = { bold: "strong", italic: "em", strike: "s", underline: "u", spoiler: "span" } as const;

function inline(node: Inline): Node {
  switch (node.kind) {
    case "text":
      return document.createTextNode(node.text);
    case "break":
      return h("br");
    case "code":
      return h("code", {}, node.text);
    case "mention":
      return h("span", { class: "mention" }, node.text);
    case "link":
      return link(node.href, ...node.children.map(inline));
    default:
      return h(
        TAGS[node.kind],
        node.kind === "spoiler" ? { class: "spoiler" } : {},
        ...node.children.map(inline),
      );
  }
}

function block(node: Block): HTMLElement {
  switch (node.kind) {
    case "pre":
      return h("pre", {}, node.text);
    case "quote":
      return h("blockquote", {}, ...node.children.map(inline));
    case "heading":
      return h("div", { class: `md-h${node.level}` }, ...node.children.map(inline));
    default:
      return h("div", { class: "md-p" }, ...node.children.map(inline));
  }
}

/** A parsed chat text as elements, in a container with the given class. */
export function renderMarkup(blocks: readonly Block[], className: string): HTMLElement {
  return h("div", { class: className }, ...blocks.map(block));
}
