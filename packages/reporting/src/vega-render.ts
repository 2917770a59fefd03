import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

/** Size and title of a chart (the options every vega-lite chart of this package takes). */
export interface ChartFrameOptions {
  /** Chart title. */
  readonly title?: string;
  /** Width in pixels; default 640. */
  readonly width?: number;
  /** Height in pixels; default 360. */
  readonly height?: number;
}

/** The top-level vega-lite properties shared by this package's charts: schema, title, size, white background. */
export function chartFrame(options: ChartFrameOptions, defaultTitle: string) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title ?? defaultTitle,
    width: options.width ?? 640,
    height: options.height ?? 360,
    background: 'white',
  } as const;
}

/** Compile a vega-lite spec and render it to SVG text, headless (no canvas needed). */
export async function vegaLiteSvg(spec: vegaLite.TopLevelSpec): Promise<string> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
