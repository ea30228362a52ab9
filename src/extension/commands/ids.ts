// Ids of the commands in this folder, shared by the command classes and the CodeLenses that
// invoke them (package.json declares the same ids).

export const COMMAND_IDS = {
  generate: 'courseIllustrator.generate',
  insertLast: 'courseIllustrator.insertLast',
  cancel: 'courseIllustrator.cancel',
  generateStub: 'courseIllustrator.generateStub',
  generateVariations: 'courseIllustrator.generateVariations',
  regenerate: 'courseIllustrator.regenerate',
  showParameters: 'courseIllustrator.showParameters',
  showLog: 'courseIllustrator.showLog',
  redrawImage: 'courseIllustrator.redrawImage',
  /** Registered by panel/index.ts (the results panel owns it). */
  openPanel: 'courseIllustrator.openPanel',
} as const;

/** Fourth argument of generateVariations from an image lens: vary the image, not a stub on that line. */
export const VARY_IMAGE_ARG = 'image';
